"""23.27 dtype promotion rules"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        i = torch.tensor([1, 2])
        f = torch.tensor([0.5, 1.5])
        b = torch.tensor([True, False])
        a = nnsight.save([(i + f).dtype, (i + 1.5).dtype, (i * 2).dtype, (b + b).dtype, (b + 1).dtype, (i / 2).dtype, (i // 2).dtype,
                          (f.double() + f).dtype, (i + torch.tensor(1.0)).dtype, torch.tensor([1], dtype=torch.int32) + 1, (i == 1).dtype, i / 2])
    return {"a": a}
