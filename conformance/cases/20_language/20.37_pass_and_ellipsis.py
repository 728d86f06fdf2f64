"""20.37 pass, ..., and empty bodies"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def noop():
            pass
        class Empty:
            ...
        for _ in range(2):
            pass
        a = nnsight.save([noop(), type(Empty()).__name__, ... is Ellipsis])
    return {"a": a}
