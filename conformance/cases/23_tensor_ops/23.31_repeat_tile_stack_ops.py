"""23.31 repeat, repeat_interleave, tile, outer, cross products"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        t = torch.tensor([1, 2, 3])
        a = nnsight.save([t.repeat(2), t.repeat(2, 1), t.repeat_interleave(2), torch.outer(t, t), torch.tile(t, (2,)), torch.dot(t, t), t.unsqueeze(0).expand(2, 3)])
    return {"a": a}
