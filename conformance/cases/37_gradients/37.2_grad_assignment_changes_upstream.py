"""37.2 assigning .grad in a backward block changes the gradients further upstream"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h0 = model.transformer.h[0].output
        m1 = model.transformer.h[1].mlp.output
        loss = model.lm_head.output[0, -1].logsumexp(-1)
        with loss.backward():
            seen = m1.grad.clone().save()
            m1.grad = m1.grad * 2
            g0 = h0.grad.save()
    return {"seen": seen, "g0": g0}
