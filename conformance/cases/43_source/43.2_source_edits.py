"""43.2 editing operations changes the logits: an output assignment, an in-place edit and an input swap"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        attn = model.transformer.h[0].attn.source
        attn.attention_interface_1.output[0][:, :, 0, :] = 0
        mlp = model.transformer.h[1].mlp.source
        mlp.self_c_proj_0.output = mlp.self_c_proj_0.output * 0.5
        args, kwargs = model.transformer.h[1].attn.source.self_c_proj_0.inputs
        model.transformer.h[1].attn.source.self_c_proj_0.inputs = ((args[0] * 2,), kwargs)
        logits = model.lm_head.output.save()
    return {"logits": logits}
