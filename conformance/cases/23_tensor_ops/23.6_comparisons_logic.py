"""23.6 comparison and logical ops on tensors"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        gt = nnsight.save(h > 0)
        eq = nnsight.save(h == h)
        ne = nnsight.save((h != 0).sum())
        both = nnsight.save((h > 0) & (h < 1))
        either = nnsight.save(((h > 1) | (h < -1)).any())
        inv = nnsight.save(~(h > 0))
        allpos = nnsight.save(torch.all(h.abs() >= 0))
    return {"gt": gt, "eq": eq, "ne": ne, "both": both, "either": either, "inv": inv, "allpos": allpos}
