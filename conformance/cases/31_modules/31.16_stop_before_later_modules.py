"""31.16 modules after tracer.stop() never run"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote) as tracer:
        h = model.transformer.h[0].output.save()
        tracer.stop()
    return {"h": h}
