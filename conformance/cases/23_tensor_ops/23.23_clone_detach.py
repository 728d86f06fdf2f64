"""23.23 clone and detach"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        c = h.clone()
        c[:] = 0
        d = h.detach()
        same = nnsight.save([h.sum() == d.sum(), c.abs().sum().item(), d.shape])
    return {"same": same}
