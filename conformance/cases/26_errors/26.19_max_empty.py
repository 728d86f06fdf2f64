"""26.19 ValueError from max() of an empty sequence"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "ValueError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = nnsight.save(max([]))
    return {"x": x}
