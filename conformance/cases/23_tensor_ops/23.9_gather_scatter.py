"""23.9 gather and scatter"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        logits = model.lm_head.output[0]
        ids = torch.tensor([[1], [2], [3], [4], [5], [6], [7], [8]])
        g = nnsight.save(logits.gather(1, ids))
        z = torch.zeros(3, 5)
        s = nnsight.save(z.scatter(1, torch.tensor([[0], [2], [4]]), 1.0))
        sa = nnsight.save(torch.zeros(5).scatter_add(0, torch.tensor([0, 1, 1, 3]), torch.tensor([1.0, 2.0, 3.0, 4.0])))
    return {"g": g, "s": s, "sa": sa}
