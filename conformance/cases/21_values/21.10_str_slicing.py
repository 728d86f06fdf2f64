"""21.10 string indexing and slicing, negative steps"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        s = "nnsight"
        a = nnsight.save([s[0], s[-1], s[1:4], s[::-1], s[::2], s[-3:], s[:-3], s[10:], s[5:1:-1]])
    return {"a": a}
