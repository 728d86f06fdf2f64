"""24.1 paired integer-array indexing"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        a = nnsight.save(h[0, [0, 1], [2, 3]])
        b = nnsight.save(h[0, [[0], [1]], [2, 3]])
        c = nnsight.save(h[:, [0, 2, 4]])
        d = nnsight.save(h[0][torch.tensor([1, 3])][:, torch.tensor([0, 5])])
        e = nnsight.save(h[..., [0, -1]])
    return {"a": a, "b": b, "c": c, "d": d, "e": e}
