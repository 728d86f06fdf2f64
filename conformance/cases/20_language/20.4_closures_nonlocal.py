"""20.4 closures and nonlocal"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def counter():
            count = 0
            def bump(step=1):
                nonlocal count
                count += step
                return count
            return bump
        c = counter()
        c(); c(5)
        a = nnsight.save([c(), c(10)])
    return {"a": a}
