"""24.10 += on a slice of a live activation"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        model.transformer.h[1].output[:, -1, :] += 1.0
        logits = nnsight.save(model.lm_head.output)
    return {"logits": logits}
