"""31.11 assigning .output replaces a module's output"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        model.transformer.h[0].mlp.output = torch.zeros_like(model.transformer.h[0].mlp.output)
        logits = nnsight.save(model.lm_head.output)
    return {"logits": logits}
