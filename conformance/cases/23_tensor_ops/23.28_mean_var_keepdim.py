"""23.28 mean/var/std with dims, keepdim, unbiased"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"



def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        a = nnsight.save([h.mean(0, keepdim=True), h.var(dim=-1), h.var(dim=-1, unbiased=False), h.std(), torch.mean(h, dim=(0, 1)), h.sum(dim=[0, 1]),
                          h.amax(dim=0), h.amin(-1), h.logsumexp(-1)])
    return {"a": a}
