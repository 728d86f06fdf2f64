"""23.30 masked_select, index_select, narrow, roll, flip, tril, triu"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        a = nnsight.save([h.masked_select(h > 0.5), h.index_select(0, torch.tensor([0, 2])), h.narrow(1, 2, 3), h.roll(1, dims=0), h.flip(0),
                          torch.tril(h[:4, :4]), h[:4, :4].triu(1), torch.diag(h[:3, :3])])
    return {"a": a}
