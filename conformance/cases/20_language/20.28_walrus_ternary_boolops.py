"""20.28 assignment expressions, conditional expressions, and/or values"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        data = [1, 5, 12, 7]
        big = [y for x in data if (y := x * 2) > 10]
        a = nnsight.save([big, "yes" if big else "no", 0 or "fallback", 3 and 4, None or [] or 7, not 0])
    return {"a": a}
