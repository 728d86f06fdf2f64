"""37.3 an in-place edit of a gradient (h.grad[:] = 0) flows upstream as in PyTorch"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h0 = model.transformer.h[0].output
        a1 = model.transformer.h[1].attn.output[0]
        m1 = model.transformer.h[1].mlp.output
        logits = model.lm_head.output
        with logits[:, -1].sum().backward():
            m1.grad[:, :-1] = 0
            ga = a1.grad.save()
            g0 = h0.grad.save()
    return {"ga": ga, "g0": g0}
