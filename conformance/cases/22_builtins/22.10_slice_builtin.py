"""22.10 slice objects"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        s = slice(1, 8, 2)
        xs = list(range(10))
        a = nnsight.save([xs[s], s.start, s.stop, s.step, s.indices(5), xs[slice(3)], xs[slice(-3, None)]])
    return {"a": a}
