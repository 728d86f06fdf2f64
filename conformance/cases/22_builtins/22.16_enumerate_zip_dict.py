"""22.16 dict from zip and enumerate in loops"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        keys = ["a", "b", "c"]
        d = dict(zip(keys, range(3)))
        inv = {v: k for k, v in d.items()}
        pos = {k: i for i, k in enumerate(keys, 1)}
        a = nnsight.save([d, inv, pos])
    return {"a": a}
