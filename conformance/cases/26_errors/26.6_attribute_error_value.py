"""26.6 AttributeError on a plain value"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "AttributeError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = nnsight.save((5).nothing)
    return {"x": x}
