"""20.19 assert statements that hold"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = 5
        assert x == 5
        assert x > 0, "positive"
        a = nnsight.save(x)
    return {"a": a}
