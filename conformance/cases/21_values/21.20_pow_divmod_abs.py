"""21.20 pow, divmod and abs"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([pow(2, 10), pow(2, -2), pow(3, 4, 5), pow(-2, 3), (-8) ** (1 / 3) if False else 0, divmod(17, 5), divmod(-17, 5),
                          abs(-3), abs(-2.5), 2 ** -1, 0 ** 0, pow(7, -1, 10)])
    return {"a": a}
