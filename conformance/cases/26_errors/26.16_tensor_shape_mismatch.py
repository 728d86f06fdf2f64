"""26.16 a tensor shape mismatch error"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "RuntimeError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = nnsight.save(torch.ones(3) + torch.ones(4))
    return {"x": x}
