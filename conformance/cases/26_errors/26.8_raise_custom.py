"""26.8 a raised exception with a message"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "RuntimeError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        raise RuntimeError("stop here: 42")
    return {}
