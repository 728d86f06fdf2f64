"""35.9 keyword-only module inputs: self_attn.input is hidden_states"""

import nnsight
import torch

MODEL = "llama"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        model_in = nnsight.save(sorted(model.model.inputs[1]))
        args, kwargs = model.model.layers[0].self_attn.inputs
        names = nnsight.save(sorted(kwargs))
        nargs = nnsight.save(len(args))
        x = model.model.layers[0].self_attn.input.save()
    return {"names": names, "nargs": nargs, "x": x, "model_in": model_in}
