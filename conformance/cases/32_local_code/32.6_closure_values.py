"""32.6 values captured from the enclosing function"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    layer, scale, label = 1, 0.5, "steered"
    steer = torch.ones(model.config.hidden_size)
    with model.trace(PROMPT, remote=remote):
        model.transformer.h[layer].output[0, -1, :] += steer * scale
        out = model.lm_head.output.save()
        name = nnsight.save(label.upper())
    return {"out": out, "name": name}
