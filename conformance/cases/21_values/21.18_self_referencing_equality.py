"""21.18 == on self-referencing and shared containers"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        xs = [1]
        xs.append(xs)
        ys = [1, 2]
        a = nnsight.save([xs == xs, xs in [xs], ys == [1, 2], [ys, ys] == [[1, 2], [1, 2]], xs is xs[1]])
    return {"a": a}
