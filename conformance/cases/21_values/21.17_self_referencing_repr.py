"""21.17 repr of self-referencing containers"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        xs = [1, 2]
        xs.append(xs)
        d = {"k": 1}
        d["self"] = d
        nested = [xs, [xs]]
        a = nnsight.save([repr(xs), repr(d), str(nested)])
    return {"a": a}
