"""30.3 an edit in one invoke does not reach another"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(remote=remote) as tracer:
        with tracer.invoke("The Eiffel Tower is in the city of"):
            model.transformer.h[0].output[:] = 0
            a = model.lm_head.output.save()
        with tracer.invoke("The Colosseum is in the city of"):
            b = model.lm_head.output.save()
    return {"a": a, "b": b}
