"""46.10 Tensor.numpy() on a tensor that requires grad raises torch's RuntimeError"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §numpy"
PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "RuntimeError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        ok = nnsight.save(np.array([1.0, 2.0]).sum())
        w = torch.ones(3, requires_grad=True)
        bad = w.numpy()
    return {"ok": ok}
