"""31.1 the logit lens at every layer"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        lens = nnsight.save([])
        for layer in model.transformer.h:
            lens.append(model.lm_head(model.transformer.ln_f(layer.output))[0, -1].argmax(-1))
        final = nnsight.save(model.lm_head.output[0, -1].argmax(-1))
    return {"lens": lens, "final": final}
