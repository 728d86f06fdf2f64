"""25.6 .inputs of a block (args, kwargs) with its cache"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        inputs = model.transformer.h[0].inputs.save()
    return {"inputs": inputs}
