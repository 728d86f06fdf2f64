"""20.27 for with else and nested break"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        found = []
        for n in range(2, 20):
            for d in range(2, n):
                if n % d == 0:
                    break
            else:
                found.append(n)
        a = nnsight.save(found)
    return {"a": a}
