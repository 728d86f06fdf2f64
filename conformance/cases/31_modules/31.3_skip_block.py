"""31.3 .skip() replaces a block's output"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h0 = model.transformer.h[0].output
        model.transformer.h[1].skip(h0)
        h1 = nnsight.save(model.transformer.h[1].output)
        logits = nnsight.save(model.lm_head.output)
    return {"h1": h1, "logits": logits}
