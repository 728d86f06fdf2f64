"""20.12 dict and set comprehensions"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save({k: len(k) for k in ["a", "bb", "ccc"]})
        b = nnsight.save({x % 4 for x in range(20)})
    return {"a": a, "b": b}
