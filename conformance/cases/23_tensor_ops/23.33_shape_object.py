"""23.33 torch.Size behaves like a tuple"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        s = model.transformer.h[0].output.shape
        a = nnsight.save([s, s[-1], s[1:], len(s), list(s), s == (1, 8, 32), tuple(s), s.numel(), [d for d in s], s[0] * s[1]])
    return {"a": a}
