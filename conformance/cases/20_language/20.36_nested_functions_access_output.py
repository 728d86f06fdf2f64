"""20.36 a function defined in the body that reads .output"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def last_token(layer):
            return model.transformer.h[layer].output[0, -1, :4]
        first = nnsight.save(last_token(0))
        second = nnsight.save(last_token(1))
    return {"first": first, "second": second}
