"""26.3 IndexError on a list"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "IndexError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = nnsight.save([1, 2][5])
    return {"x": x}
