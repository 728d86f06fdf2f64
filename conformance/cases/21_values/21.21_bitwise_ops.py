"""21.21 bitwise operators and shifts with big ints"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = 0b1011
        a = nnsight.save([x & 6, x | 4, x ^ 5, ~x, x << 70, (1 << 100) >> 98, -1 >> 5, -(2 ** 80) >> 3, (2 ** 90) & (2 ** 90 - 1)])
    return {"a": a}
