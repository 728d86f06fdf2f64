"""21.12 slice assignment and deletion on lists"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        xs = list(range(10))
        xs[2:5] = ["a", "b"]
        xs[::3] = [0, 0, 0]
        xs[-1:] = []
        ys = [1, 2, 3]
        ys[1:1] = [9, 9]
        a = nnsight.save([xs, ys])
    return {"a": a}
