"""26.4 KeyError with the key's repr"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "KeyError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = nnsight.save({"a": 1}["missing"])
    return {"x": x}
