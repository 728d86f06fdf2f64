"""40.7 unbounded recursion is Python's RecursionError"""

import nnsight  # noqa: F401
import torch  # noqa: F401
from nnsight_case import RemoteError  # the client's remote-failure exception

SERVER_ONLY = True
# What the server must advertise (GET /env) for this case to judge it (docs/conformance.md).
NEEDS = {"limits.max_depth": None}
EXPECT = ['RecursionError: maximum recursion depth exceeded']


def run(model):
    try:
        with model.trace("The Eiffel Tower", remote=True):
            def f(n):
                return f(n + 1)
            f(0)
    except RemoteError as e:
        text = str(e)
        assert all(part in text for part in EXPECT), text
        return
    raise AssertionError("the job completed")
