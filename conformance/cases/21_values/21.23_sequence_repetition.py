"""21.23 repetition of strings and lists"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save(["ab" * 3, [0] * 4, [[1]] * 2, 3 * "x", (1, 2) * 2, "x" * 0, [1] * -1])
    return {"a": a}
