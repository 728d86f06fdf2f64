"""32.5 a helper reading the script's globals"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

BASE = 100


def offset(n):
    return BASE + n


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        y = nnsight.save(offset(5))
    return {"y": y}
