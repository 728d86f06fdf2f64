"""33.3 plain Python between traces in a session"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.session(remote=remote):
        with model.trace("Hello"):
            h = model.transformer.h[0].output
        width = h.shape[-1]
        doubled = nnsight.save(width * 2)
    return {"doubled": doubled}
