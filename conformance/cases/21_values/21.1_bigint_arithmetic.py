"""21.1 arbitrary-precision ints"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([2 ** 100, 3 ** 80 - 7 ** 40, (2 ** 70) * (3 ** 50), -(10 ** 30) // 7, (10 ** 30) % 97, 2 ** 64 - 1, -2 ** 63 - 1])
    return {"a": a}
