"""23.7 matmul, @ and einsum"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"



def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        w = torch.ones(32, 4) / 32
        a = nnsight.save(h @ w)
        b = nnsight.save(torch.matmul(h, w))
        c = nnsight.save(torch.einsum("sd,de->se", h, w))
        d = nnsight.save(torch.einsum("sd,td->st", h, h))
        e = nnsight.save(h.mm(w))
    return {"a": a, "b": b, "c": c, "d": d, "e": e}
