"""40.2 an endless loop ends at the step limit, naming it"""

import nnsight  # noqa: F401
import torch  # noqa: F401
from nnsight_case import RemoteError  # the client's remote-failure exception

SERVER_ONLY = True
# What the server must advertise (GET /env) for this case to judge it (docs/conformance.md).
NEEDS = {"limits.max_steps": 100000000, "limits.timeout_s": None}
EXPECT = ['RuntimeError:', 'interpreter steps (--max-steps)']


def run(model):
    try:
        with model.trace("The Eiffel Tower", remote=True):
            while True:
                pass
    except RemoteError as e:
        text = str(e)
        assert all(part in text for part in EXPECT), text
        return
    raise AssertionError("the job completed")
