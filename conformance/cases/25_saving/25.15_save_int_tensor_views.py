"""25.15 saving views of activations keeps values"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        v = nnsight.save(h[0, 1:3, ::2])
        t = nnsight.save(h.transpose(1, 2))
    return {"v": v, "t": t}
