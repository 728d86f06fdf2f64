"""23.13 torch.tensor dtype inference"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([torch.tensor(3), torch.tensor(2.5), torch.tensor([1, 2]), torch.tensor([1.0, 2]), torch.tensor([True, False]),
                          torch.tensor([[1, 2], [3, 4]]), torch.tensor([1, 2], dtype=torch.float32), torch.tensor([]), torch.tensor(7).dtype,
                          torch.tensor([1.5]).dtype, torch.tensor(2 ** 40)])
    return {"a": a}
