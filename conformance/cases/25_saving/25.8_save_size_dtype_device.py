"""25.8 torch.Size, dtypes and devices"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        s = nnsight.save(h.shape)
        d = nnsight.save(h.dtype)
        dev = nnsight.save(h.device)
    return {"s": s, "d": d, "dev": dev}
