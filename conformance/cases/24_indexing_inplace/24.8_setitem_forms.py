"""24.8 indexed assignment forms: mask, advanced, broadcast, tensor value"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        t = torch.zeros(4, 5)
        t[0] = 1
        t[1, 2:4] = torch.tensor([5.0, 6.0])
        t[t == 0] = -1
        t[[2, 3], [0, 1]] = 9
        t[:, -1] = torch.arange(4.0)
        t[..., 0] += 100
        a = nnsight.save(t)
    return {"a": a}
