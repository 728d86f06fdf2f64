"""40.9 a job past its wall-clock limit ends with NDIF's timeout text"""

import nnsight  # noqa: F401
import torch  # noqa: F401
from nnsight_case import RemoteError  # the client's remote-failure exception

SERVER_ONLY = True
# What the server must advertise (GET /env) for this case to judge it (docs/conformance.md).
NEEDS = {"limits.timeout_s": 120}
EXPECT = ['Your job exceeded the execution timeout of']


def run(model):
    try:
        with model.trace("The Eiffel Tower", remote=True):
            x = torch.ones(600, 600)
            while True:
                x = (x @ x).clamp(-1, 1)
    except RemoteError as e:
        text = str(e)
        assert all(part in text for part in EXPECT), text
        return
    raise AssertionError("the job completed")
