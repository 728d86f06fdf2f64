"""21.30 range objects: len, index, slicing, contains"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        r = range(2, 20, 3)
        a = nnsight.save([len(r), r[2], r[-1], list(r[1:3]), 11 in r, 12 in r, list(range(5, 0, -2)), r.index(8), list(reversed(r))[:2],
                          range(0) == range(2, 2), r.start + r.stop + r.step])
    return {"a": a}
