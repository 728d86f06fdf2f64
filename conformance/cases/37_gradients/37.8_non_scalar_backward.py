"""37.8 backward() of a non-scalar without a gradient is PyTorch's RuntimeError"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "RuntimeError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        logits = model.lm_head.output
        logits.backward()
    return {}
