"""23.14 seeded random tensors: randn, rand, randint, randperm"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        torch.manual_seed(0)
        a = nnsight.save([torch.randn(3), torch.rand(2, 2), torch.randint(0, 10, (4,)), torch.randperm(5)])
        torch.manual_seed(0)
        b = nnsight.save(torch.randn(3))
    return {"a": a, "b": b}
