"""32.3 helpers calling helpers and using torch"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

def normalize(x):
    return x / x.norm()


def normalized_top(x, k):
    return normalize(x).topk(k).indices


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        y = nnsight.save(normalized_top(model.lm_head.output[0, -1], 3))
    return {"y": y}
