"""26.12 calling a function with wrong arguments"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def f(a, b):
            return a + b
        x = nnsight.save(f(1))
    return {"x": x}
