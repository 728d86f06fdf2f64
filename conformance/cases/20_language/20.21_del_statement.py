"""20.21 del of names, items and slices"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        d = {"a": 1, "b": 2, "c": 3}
        del d["b"]
        xs = list(range(8))
        del xs[1], xs[-1]
        del xs[::2]
        tmp = 1
        del tmp
        try:
            tmp
            gone = False
        except NameError:
            gone = True
        a = nnsight.save([d, xs, gone])
    return {"a": a}
