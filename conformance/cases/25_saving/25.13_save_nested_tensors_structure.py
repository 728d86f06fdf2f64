"""25.13 nested structures of tensors"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        out = nnsight.save({"layers": [model.transformer.h[i].output[0, -1, :2] for i in range(2)], "pair": (1, [2.5])})
    return {"out": out}
