"""20.1 def with defaults, keyword-only parameters and return"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def scale(x, factor=2, *, shift=0):
            return x * factor + shift
        a = nnsight.save([scale(1), scale(2, 3), scale(2, shift=5), scale(x=4, factor=1, shift=-1)])
    return {"a": a}
