"""23.25 tensors with Python numbers and builtins"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0, -1]
        a = nnsight.save([float(h[0]), int(h.argmax()), bool(h.sum() > -1e9), round(h[0].item(), 3), len(h), max(h[:3].tolist()), sum(h[:3].tolist()),
                          abs(h[0]).item() >= 0, h[:3].tolist() == [float(x) for x in h[:3]]])
    return {"a": a}
