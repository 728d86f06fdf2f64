"""37.7 an error raised in a backward block stops the pass and names the user's line"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "ValueError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h1 = model.transformer.h[1].output
        logits = model.lm_head.output
        with logits.sum().backward():
            g = h1.grad
            raise ValueError(f"stop at {tuple(g.shape)}")
    return {}
