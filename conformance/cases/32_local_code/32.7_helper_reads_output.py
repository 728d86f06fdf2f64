"""32.7 a script-level helper that reads .output"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

def logit_lens(model, layer):
    h = model.transformer.h[layer].output
    return model.lm_head(model.transformer.ln_f(h))[0, -1].argmax(-1)


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        lens = nnsight.save(logit_lens(model, 0))
    return {"lens": lens}
