"""21.2 floor division and modulo signs"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        pairs = [(7, 2), (-7, 2), (7, -2), (-7, -2), (0, 3)]
        a = nnsight.save([(x // y, x % y, divmod(x, y)) for x, y in pairs])
        b = nnsight.save([7.5 // 2, -7.5 // 2, 7.5 % -2, -7.5 % 2])
    return {"a": a, "b": b}
