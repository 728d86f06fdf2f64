"""23.10 cumsum, cumprod and norms"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"



def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        a = nnsight.save(h.cumsum(dim=0))
        b = nnsight.save(h.norm())
        c = nnsight.save(h.norm(dim=-1))
        d = nnsight.save(torch.norm(h, p=1, dim=0))
        e = nnsight.save(torch.linalg.norm(h, dim=-1))
        f = nnsight.save(torch.tensor([1.0, 2.0, 3.0]).cumprod(0))
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}
