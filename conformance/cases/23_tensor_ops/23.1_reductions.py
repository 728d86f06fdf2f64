"""23.1 sum, mean, max, min, std, prod, argmax, argmin"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        a = nnsight.save(h.sum())
        b = nnsight.save(h.mean(dim=-1))
        c = nnsight.save(h.max())
        d = nnsight.save(h.std(dim=1, keepdim=True))
        e = nnsight.save(h.argmax(dim=-1))
        f = nnsight.save(h[0, :, :3].prod(dim=0))
        g = nnsight.save(torch.argmin(h, dim=2))
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g}
