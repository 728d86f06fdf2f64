"""20.11 nested comprehensions"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([[i * j for j in range(4)] for i in range(3)])
        b = nnsight.save([x for row in [[1, 2], [3], [4, 5, 6]] for x in row if x % 2])
    return {"a": a, "b": b}
