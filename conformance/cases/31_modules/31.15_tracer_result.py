"""31.15 tracer.result is the traced call's return value"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote) as tracer:
        r = tracer.result
        logits = nnsight.save(r.logits)
    return {"logits": logits}
