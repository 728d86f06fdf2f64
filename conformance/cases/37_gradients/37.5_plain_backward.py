"""37.5 a plain loss.backward() runs autograd: leaves get .grad, activations keep none"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
# nnsight 0.5 and 0.7 never hand a saved None back to the caller's frame: their local
# run (and so the server's, for them) ends with the name unbound.
EXPECT_ERROR = {"0.5": "UnboundLocalError", "0.7": "UnboundLocalError"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h0 = model.transformer.h[0].output
        scale = torch.ones(1, requires_grad=True)
        logits = model.lm_head.output * scale
        logits.sum().backward()
        g_scale = nnsight.save(scale.grad)
        g_h0 = nnsight.save(h0.grad)
    return {"g_scale": g_scale, "g_h0_is_none": g_h0 is None}
