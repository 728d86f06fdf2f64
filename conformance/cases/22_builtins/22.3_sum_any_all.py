"""22.3 sum, any, all"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([sum([1, 2, 3]), sum([0.1] * 10), sum([[1], [2]], []), sum(range(101), 10), any([]), all([]), any([0, 0, 1]), all([1, 0])])
    return {"a": a}
