"""23.21 allclose, isclose, equal"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        a = nnsight.save([torch.allclose(h, h + 1e-9), torch.allclose(h, h + 1), torch.isclose(h[0, 0, :4], h[0, 0, :4] * 1.0000001), torch.equal(h, h.clone()),
                          h.allclose(h), torch.equal(torch.tensor([1, 2]), torch.tensor([1, 3]))])
    return {"a": a}
