"""20.32 closures capture variables, not values"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        fs = [lambda: i for i in range(3)]
        gs = [lambda i=i: i for i in range(3)]
        a = nnsight.save([[f() for f in fs], [g() for g in gs]])
    return {"a": a}
