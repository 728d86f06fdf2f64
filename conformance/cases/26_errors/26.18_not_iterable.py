"""26.18 TypeError for iterating an int"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "TypeError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        for i in 5:
            pass
    return {}
