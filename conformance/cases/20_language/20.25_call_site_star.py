"""20.25 * and ** at call sites"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def f(a, b, c=0, *rest, **kw):
            return [a, b, c, rest, sorted(kw)]
        args = [1, 2]
        kwargs = {"c": 3, "z": 9}
        a = nnsight.save([f(*args, **kwargs), f(*range(5)), f(*args, *[7], x=1, **{"y": 2}), max(*[3, 9, 4])])
    return {"a": a}
