"""24.9 in-place methods on a live activation"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        model.transformer.h[0].mlp.output.mul_(0.5)
        model.transformer.h[1].output[0, 0].zero_()
        logits = nnsight.save(model.lm_head.output)
    return {"logits": logits}
