"""37.1 with loss.backward(): the gradients of a loss w.r.t. two layer outputs, in reverse order"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h0 = model.transformer.h[0].output
        h1 = model.transformer.h[1].output
        logits = model.lm_head.output
        with logits.sum().backward():
            g1 = h1.grad.save()
            g0 = h0.grad.save()
    return {"g0": g0, "g1": g1}
