"""25.14 a module output that is a tuple"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        attn = model.transformer.h[0].attn.output.save()
    return {"attn": attn}
