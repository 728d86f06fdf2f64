"""21.4 true division of ints and floats"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([7 / 2, 1 / 3, 10 ** 20 / 3, 2 ** 60 / 2 ** 10, -1 / 8, 6 / 3])
    return {"a": a}
