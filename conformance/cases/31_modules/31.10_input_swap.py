"""31.10 assigning .input replaces a module's first argument"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = model.transformer.h[1].input
        model.transformer.h[1].input = x * 0.5
        out = nnsight.save(model.transformer.h[1].output)
    return {"out": out}
