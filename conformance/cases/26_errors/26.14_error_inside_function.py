"""26.14 an error raised inside a helper function"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "IndexError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def helper(xs):
            return xs[10]
        x = nnsight.save(helper([1, 2, 3]))
    return {"x": x}
