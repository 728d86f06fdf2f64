"""25.1 a saved list filled in a loop"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        out = nnsight.save([])
        for i in range(2):
            out.append(model.transformer.h[i].output[0, -1, :3])
    return {"out": out}
