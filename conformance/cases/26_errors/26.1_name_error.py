"""26.1 NameError for an unknown name"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "NameError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = nnsight.save(undefined_name + 1)
    return {"x": x}
