"""26.20 the truth value of a multi-element tensor"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "RuntimeError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        if h:
            pass
    return {}
