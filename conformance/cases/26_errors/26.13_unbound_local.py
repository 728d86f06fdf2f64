"""26.13 UnboundLocalError"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "UnboundLocalError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def f():
            y = z + 1
            z = 2
            return y
        x = nnsight.save(f())
    return {"x": x}
