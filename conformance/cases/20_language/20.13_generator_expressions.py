"""20.13 generator expressions fed to sum, any, all, max, min, sorted, join"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        nums = [3, 1, 4, 1, 5, 9, 2, 6]
        a = nnsight.save([sum(x for x in nums), any(x > 8 for x in nums), all(x > 0 for x in nums),
                          max(x % 5 for x in nums), min(-x for x in nums), sorted(x for x in nums if x > 2),
                          "-".join(str(x) for x in nums), tuple(x for x in nums[:3]), list(x * 2 for x in nums[:2])])
    return {"a": a}
