"""20.33 decorators defined in the body"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def twice(f):
            def wrapper(*args):
                return f(*f(*args))
            return wrapper
        @twice
        def inc(x, y):
            return x + 1, y * 2
        a = nnsight.save(inc(1, 1))
    return {"a": a}
