"""31.5 reading .weight and .bias"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        w = nnsight.save(model.transformer.h[0].mlp.c_fc.weight)
        b = nnsight.save(model.transformer.h[0].ln_1.bias)
        n = nnsight.save(model.lm_head.weight.shape)
    return {"w": w, "b": b, "n": n}
