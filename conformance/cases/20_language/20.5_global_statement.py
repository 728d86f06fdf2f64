"""20.5 the global statement inside a function"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        total = 10
        def add(n):
            global total
            total = total + n
            return total
        add(5)
        a = nnsight.save(add(7))
    return {"a": a}
