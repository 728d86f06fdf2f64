"""24.2 boolean mask indexing"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        a = nnsight.save(h[h > 0.5])
        b = nnsight.save(h[torch.tensor([True, False] * 4)])
        c = nnsight.save(h[:, h[0] > 0])
    return {"a": a, "b": b, "c": c}
