"""26.11 a module the model does not have"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = nnsight.save(model.transformer.h[7].output)
    return {"x": x}
