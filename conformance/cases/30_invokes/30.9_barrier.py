"""30.9 a barrier lets two invokes share a value at one module"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(remote=remote) as tracer:
        barrier = tracer.barrier(2)
        with tracer.invoke("The Eiffel Tower is in the city of"):
            clean = model.transformer.h[0].output[:, -1, :]
            barrier()
        with tracer.invoke("The Colosseum is in the city of"):
            barrier()
            model.transformer.h[0].output[:, -1, :] = clean
            out = model.lm_head.output.save()
    return {"out": out}
