"""43.2 editing operations changes the logits: an output assignment, an in-place edit and an input swap"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

# The attention call: 0.5 and 0.7 number calls only (`attention_interface_0`).
ATTN = "attention_interface_0" if nnsight.__version__.startswith(("0.5", "0.7")) else "attention_interface_1"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        attn = model.transformer.h[0].attn.source
        getattr(attn, ATTN).output[0][:, :, 0, :] = 0
        args, kwargs = model.transformer.h[1].attn.source.self_c_proj_0.inputs
        model.transformer.h[1].attn.source.self_c_proj_0.inputs = ((args[0] * 2,), kwargs)
        mlp = model.transformer.h[1].mlp.source
        mlp.self_c_proj_0.output = mlp.self_c_proj_0.output * 0.5
        logits = model.lm_head.output.save()
    return {"logits": logits}
