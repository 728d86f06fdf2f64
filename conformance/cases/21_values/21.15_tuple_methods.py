"""21.15 tuples: count, index, concatenation, comparison"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        t = (1, 2, 2, 3)
        a = nnsight.save([t.count(2), t.index(3), t + (4,), t * 2, t[1:], len(t), (1,) < (1, 0), tuple([5, 6])])
    return {"a": a}
