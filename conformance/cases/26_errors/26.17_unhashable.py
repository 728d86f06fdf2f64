"""26.17 TypeError for an unhashable key"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "TypeError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = nnsight.save({[1]: 2})
    return {"x": x}
