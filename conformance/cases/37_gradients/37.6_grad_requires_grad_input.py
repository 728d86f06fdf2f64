"""37.6 requires_grad_ on an activation, a loss from a later layer, and the gradient at the embedding"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        emb = model.transformer.wte.output
        emb.requires_grad_(True)
        h1 = model.transformer.h[1].output
        loss = (h1[0, -1] ** 2).mean()
        with loss.backward():
            g = emb.grad.save()
        flag = nnsight.save(emb.requires_grad)
    return {"g": g, "flag": flag}
