"""24.6 **= on a live activation edits it in place"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        h **= 2
        logits = nnsight.save(model.lm_head.output)
    return {"logits": logits}
