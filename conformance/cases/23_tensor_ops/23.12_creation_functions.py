"""23.12 zeros, ones, full, arange, linspace, eye and _like variants"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        a = nnsight.save([torch.zeros(2, 3), torch.ones(4), torch.full((2, 2), 7.5), torch.arange(5), torch.arange(1, 2, 0.25),
                          torch.linspace(0, 1, 5), torch.eye(3), torch.zeros_like(h), torch.ones_like(h[0, 0]), torch.full_like(h[0, :2], 3),
                          torch.empty(0), torch.arange(6).reshape(2, 3), torch.zeros(2, dtype=torch.int64), torch.ones(2, 2, dtype=torch.bool)])
    return {"a": a}
