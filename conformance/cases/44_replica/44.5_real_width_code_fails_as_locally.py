"""44.5 code that assumes the real hidden size (8192) fails on the replica as it does locally on it"""

import nnsight
import torch

MODEL = "llama-3.1-70b replica"
PROMPT = "The Eiffel Tower is in the city of"
# The replica is narrower than the real model: torch refuses the broadcast, as locally.
EXPECT_ERROR = "RuntimeError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        steer = torch.ones(8192)
        model.model.layers[10].output[0, -1] += steer
    return {}
