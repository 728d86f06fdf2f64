"""20.23 chained comparisons and comparison results"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = 5
        a = nnsight.save([1 < x < 10, 1 < x > 10, 0 <= x <= 5 == 5, "a" < "b" < "c", [1, 2] < [1, 3], (1, 2) >= (1, 2)])
    return {"a": a}
