"""24.3 0-d tensors, None and ellipsis as indices"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        i = torch.tensor(3)
        a = nnsight.save(h[0, i])
        b = nnsight.save(h[None, 0, :2, None].shape)
        c = nnsight.save(h[..., 0])
        d = nnsight.save(h[0, ..., -1])
        e = nnsight.save(h[0, 1:6:2, ::4])
    return {"a": a, "b": b, "c": c, "d": d, "e": e}
