"""22.6 iter and next with defaults"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        it = iter([1, 2])
        got = [next(it), next(it), next(it, "done")]
        it2 = iter("ab")
        got.append("".join(it2))
        try:
            next(iter([]))
        except StopIteration:
            got.append("stop")
        a = nnsight.save(got)
    return {"a": a}
