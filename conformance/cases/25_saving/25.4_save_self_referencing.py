"""25.4 a self-referencing list is saved"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        xs = [1, 2]
        xs.append(xs)
        saved = nnsight.save(xs)
    return {"saved": saved}
