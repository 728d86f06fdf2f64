"""37.1 with loss.backward(): the gradients of a loss w.r.t. two layer outputs, in reverse order"""

import nnsight
import torch

# Gradients are not yet bit-identical to a local backward at matched threads: the
# autograd engine sums a residual's incoming gradients in the order of the graph the
# forward built, which localndif's forward does not reproduce op for op. Observed on the
# 5-layer fixture: up to 7.6e-6 absolute (README, "Reproducing a result exactly").
TOLERANCE = {"rtol": 1e-4, "atol": 2e-5}
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
