"""26.9 a failing assert with a message"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "AssertionError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        assert h.shape[-1] == 31, f"width is {h.shape[-1]}"
    return {}
