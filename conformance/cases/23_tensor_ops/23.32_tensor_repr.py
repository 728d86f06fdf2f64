"""23.32 repr and str of user tensors"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        t = torch.tensor([[1.5, -2.25], [3.0, 4.125]])
        i = torch.tensor([1, 2, 3])
        a = nnsight.save([repr(t), str(i), repr(torch.tensor(2.5)), repr(torch.zeros(2, dtype=torch.int64)), repr(torch.tensor([True])),
                          repr(torch.arange(12).reshape(3, 4)), repr(torch.tensor([1e-8, 1.0])), repr(torch.tensor([1e10, 1.0])), str(torch.tensor([0.1, 0.2]).dtype)])
    return {"a": a}
