"""20.35 if/elif/else on data read from the model"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        norm = h.norm().item()
        if norm > 1e6:
            label = "huge"
        elif norm > 0:
            label = "positive"
        else:
            label = "zero"
        a = nnsight.save(label)
    return {"a": a}
