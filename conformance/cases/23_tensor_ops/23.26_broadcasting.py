"""23.26 broadcasting between shapes"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        a = nnsight.save(h + torch.arange(32.0))
        b = nnsight.save(h[:, :1] * h[:1, :])
        c = nnsight.save(torch.ones(3, 1) + torch.ones(1, 4))
    return {"a": a, "b": b, "c": c}
