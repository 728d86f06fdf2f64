"""25.10 sets and frozensets"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        s = nnsight.save({1, 2, 3})
        f = nnsight.save(frozenset(["a"]))
    return {"s": s, "f": f}
