"""25.2 dicts and tuples with None"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        d = nnsight.save({"mean": h.mean(), "shape": tuple(h.shape), "none": None, 3: "three"})
        t = nnsight.save((h[0, 0, 0], None, "x"))
    return {"d": d, "t": t}
