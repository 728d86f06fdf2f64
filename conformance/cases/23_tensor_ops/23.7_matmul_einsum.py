"""23.7 matmul, @ and einsum"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"



def run(model, remote):
    width = model.config.hidden_size  # the served model's, never the fixture's
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        w = torch.ones(width, 4) / width
        a = nnsight.save(h @ w)
        b = nnsight.save(torch.matmul(h, w))
        c = nnsight.save(torch.einsum("sd,de->se", h, w))
        d = nnsight.save(torch.einsum("sd,td->st", h, h))
        e = nnsight.save(h.mm(w))
    return {"a": a, "b": b, "c": c, "d": d, "e": e}
