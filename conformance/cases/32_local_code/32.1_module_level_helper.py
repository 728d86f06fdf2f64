"""32.1 a helper function defined in the script"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

def scaled(x, factor=2.0):
    return x * factor


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        y = nnsight.save(scaled(model.transformer.h[0].output[0, -1], 3.0))
    return {"y": y}
