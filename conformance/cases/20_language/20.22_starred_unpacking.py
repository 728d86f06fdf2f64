"""20.22 starred assignment and unpacking in literals"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        first, *middle, last = range(6)
        head, *tail = "abc"
        merged = [*middle, *tail, *range(2)]
        d = {**{"a": 1}, "b": 2, **{"a": 3}}
        (x, y), z = (1, 2), 3
        a = nnsight.save([first, middle, last, head, tail, merged, d, x + y + z])
    return {"a": a}
