"""21.3 ints past the 64-bit range"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        m = -2 ** 63
        a = nnsight.save([m // -1, m * -1, abs(m), (2 ** 63 - 1) + 1, m - 1, 2 ** 63 // 3])
    return {"a": a}
