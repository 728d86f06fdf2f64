"""20.30 augmented assignment on ints, strings, lists and items"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        n = 5
        n += 3; n *= 2; n -= 1; n //= 2; n **= 2; n %= 50; n <<= 2; n >>= 1; n |= 1; n &= 0xFF; n ^= 3
        s = "ab"
        s += "cd"; s *= 2
        xs = [1]
        alias = xs
        xs += [2, 3]
        xs *= 2
        d = {"k": 1}
        d["k"] += 41
        a = nnsight.save([n, s, xs, alias is xs, d])
    return {"a": a}
