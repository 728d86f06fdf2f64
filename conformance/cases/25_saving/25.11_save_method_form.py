"""25.11 .save() on tensors and values, saving by identity"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output.save()
        x = model.transformer.h[1].output
        y = nnsight.save(x[0, 0]) * 2
    return {"h": h}
