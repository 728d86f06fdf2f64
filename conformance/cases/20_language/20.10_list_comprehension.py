"""20.10 list comprehensions with conditions"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([x * x for x in range(10) if x % 3 != 0])
        b = nnsight.save([(i, c) for i, c in enumerate("abc") if c != "b"])
    return {"a": a, "b": b}
