"""24.12 indexing with lists of bools and negative indices"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        t = torch.arange(10)
        a = nnsight.save([t[-3], t[[True, False] * 5], t[[-1, -2]], t[-4:-1], t[torch.tensor([-1])]])
    return {"a": a}
