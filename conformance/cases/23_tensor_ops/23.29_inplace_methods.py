"""23.29 in-place tensor methods on a copy"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0].clone()
        h.add_(1).mul_(2).sub_(0.5).div_(4)
        h.clamp_(-1, 1)
        h[0].zero_()
        h[1].fill_(3.0)
        h.abs_()
        a = nnsight.save(h)
    return {"a": a}
