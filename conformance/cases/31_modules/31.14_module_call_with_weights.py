"""31.14 computing with weights and module calls together"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"



def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.ln_f(model.transformer.h[-1].output)
        manual = nnsight.save(h @ model.lm_head.weight.T)
        called = nnsight.save(model.lm_head(h))
    return {"manual": manual, "called": called}
