"""23.26 broadcasting between shapes"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    width = model.config.hidden_size  # the served model's, never the fixture's
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        a = nnsight.save(h + torch.arange(float(width)))
        b = nnsight.save(h[:, :1] * h[:1, :])
        c = nnsight.save(torch.ones(3, 1) + torch.ones(1, 4))
    return {"a": a, "b": b, "c": c}
