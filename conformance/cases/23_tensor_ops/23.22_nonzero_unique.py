"""23.22 nonzero and unique"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        ids = model.transformer.wte.input
        t = torch.tensor([3, 1, 3, 0, 2, 1])
        a = nnsight.save([t.nonzero(), torch.nonzero(t > 1), t.unique(), torch.unique(t, return_counts=True), ids.unique(), (t > 1).nonzero(as_tuple=True)])
    return {"a": a}
