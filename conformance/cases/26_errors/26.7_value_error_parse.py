"""26.7 ValueError from int()"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "ValueError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = nnsight.save(int("seven"))
    return {"x": x}
