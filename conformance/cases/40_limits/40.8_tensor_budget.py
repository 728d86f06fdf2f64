"""40.8 tensors a job holds are bounded by its memory budget"""

import nnsight  # noqa: F401
import torch  # noqa: F401
from nnsight_case import RemoteError  # the client's remote-failure exception

SERVER_ONLY = True
# What the server must advertise (GET /env) for this case to judge it (docs/conformance.md).
NEEDS = {"limits.tensor_budget": 8589934592, "limits.timeout_s": None}
EXPECT = ['MemoryError:', '(--tensor-budget)']


def run(model):
    try:
        with model.trace("The Eiffel Tower", remote=True):
            keep = []
            while True:
                keep.append(torch.ones(4096, 4096))
    except RemoteError as e:
        text = str(e)
        assert all(part in text for part in EXPECT), text
        return
    raise AssertionError("the job completed")
