"""32.2 a recursive helper function"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

def depth_sum(xs, d=1):
    return sum(depth_sum(x, d + 1) if isinstance(x, list) else x * d for x in xs)


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        y = nnsight.save(depth_sum([1, [2, [3, [4]]]]))
    return {"y": y}
