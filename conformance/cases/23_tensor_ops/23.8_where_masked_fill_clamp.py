"""23.8 where, masked_fill and clamp"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        a = nnsight.save(torch.where(h > 0, h, torch.zeros_like(h)))
        b = nnsight.save(h.masked_fill(h < 0, -1.0))
        c = nnsight.save(h.clamp(min=-0.5, max=0.5))
        d = nnsight.save(torch.clamp(h, max=0.1))
        e = nnsight.save(torch.where(h > 0, 1.0, -1.0))
    return {"a": a, "b": b, "c": c, "d": d, "e": e}
