"""20.2 *args and **kwargs in definitions"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def collect(first, *rest, sep="-", **named):
            return [first, list(rest), sep, sorted(named.items())]
        a = nnsight.save(collect(1, 2, 3, sep="+", b=2, a=1))
        b = nnsight.save(collect("x"))
    return {"a": a, "b": b}
