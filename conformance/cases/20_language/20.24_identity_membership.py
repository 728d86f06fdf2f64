"""20.24 is, is not, in, not in"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        xs = [1, 2, 3]
        ys = xs
        zs = list(xs)
        a = nnsight.save([xs is ys, xs is zs, xs == zs, xs is not zs, 2 in xs, 5 not in xs, "ow" in "tower",
                          "k" in {"k": 1}, None is None, (1, 2) in [(1, 2)]])
    return {"a": a}
