"""26.2 ZeroDivisionError"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "ZeroDivisionError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = nnsight.save(1 / 0)
    return {"x": x}
