"""31.13 reading .output twice at one visit gives the same object"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = model.transformer.h[0].output
        b = model.transformer.h[0].output
        same = nnsight.save(a is b)
    return {"same": same}
