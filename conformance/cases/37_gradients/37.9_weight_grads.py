"""37.9 after a plain backward() the weights' .grad holds the gradient"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    # The oracle's weights keep the .grad of earlier cases in this process; a job's start fresh.
    model._module.zero_grad(set_to_none=True)
    with model.trace(PROMPT, remote=remote):
        logits = model.lm_head.output
        logits[0, -1].logsumexp(-1).backward()
        g = nnsight.save(model.transformer.h[1].mlp.c_fc.weight.grad)
        b = nnsight.save(model.transformer.ln_f.bias.grad)
    return {"g": g, "b": b}
