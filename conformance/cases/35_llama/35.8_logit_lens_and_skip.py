"""35.8 the logit lens per layer, a skipped layer, an in-place edit"""

import nnsight
import torch

MODEL = "llama"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        lens = nnsight.save([model.lm_head(model.model.norm(layer.output))[0, -1].argmax(-1) for layer in model.model.layers])
    with model.trace(PROMPT, remote=remote):
        model.model.layers[1].skip(model.model.layers[1].input)
        skipped = model.lm_head.output.save()
    with model.trace(PROMPT, remote=remote):
        model.model.layers[0].self_attn.output[0][:, -1] *= 2
        edited = model.lm_head.output.save()
    return {"lens": lens, "skipped": skipped, "edited": edited}
