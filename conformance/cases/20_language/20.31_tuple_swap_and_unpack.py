"""20.31 tuple swap and unpacking in for loops"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a_, b_ = 1, 2
        a_, b_ = b_, a_
        pairs = [(k, v) for k, v in {"x": 1, "y": 2}.items()]
        total = 0
        for i, (k, v) in enumerate(pairs):
            total += i * v
        a = nnsight.save([a_, b_, pairs, total])
    return {"a": a}
