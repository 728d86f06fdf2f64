"""40.12 numpy arrays go through the same size checks and memory budget as tensors"""

import nnsight  # noqa: F401
import numpy as np
from nnsight_case import RemoteError  # the client's remote-failure exception

SERVER_ONLY = True
# What the server must advertise (GET /env) for this case to judge it (docs/conformance.md).
NEEDS = {"limits.max_tensor_numel": None, "limits.tensor_budget": 8589934592}


def refused(block, expect):
    try:
        block()
    except RemoteError as e:
        text = str(e)
        assert all(part in text for part in expect), text
        return
    raise AssertionError("the job completed")


def run(model):
    def huge():
        with model.trace("The Eiffel Tower", remote=True):
            x = np.zeros((10**6, 10**6))

    def long_range():
        with model.trace("The Eiffel Tower", remote=True):
            x = np.arange(10**13)

    def hoard():
        with model.trace("The Eiffel Tower", remote=True):
            keep = []
            while True:
                keep.append(np.ones((4096, 4096)))

    refused(huge, ["MemoryError:", "(--max-tensor-elements)"])
    refused(long_range, ["MemoryError:", "(--max-tensor-elements)"])
    refused(hoard, ["MemoryError:", "(--tensor-budget)"])
    with model.trace("The Eiffel Tower", remote=True):
        ok = nnsight.save(np.ones(3).sum())
    assert ok == 3.0, ok
