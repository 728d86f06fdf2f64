"""40.5 10 ** 10 ** 9 is refused, not computed"""

import nnsight  # noqa: F401
import torch  # noqa: F401
from nnsight_case import RemoteError  # the client's remote-failure exception

SERVER_ONLY = True
# What the server must advertise (GET /env) for this case to judge it (docs/conformance.md).
NEEDS = {"limits.max_int_bits": None}
EXPECT = ['MemoryError:', '(--max-int-bits)']


def run(model):
    try:
        with model.trace("The Eiffel Tower", remote=True):
            x = 10 ** 10 ** 9
    except RemoteError as e:
        text = str(e)
        assert all(part in text for part in EXPECT), text
        return
    raise AssertionError("the job completed")
