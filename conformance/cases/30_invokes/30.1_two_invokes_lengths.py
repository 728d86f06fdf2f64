"""30.1 two invokes with prompts of different lengths"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(remote=remote) as tracer:
        with tracer.invoke("The Eiffel Tower is in the city of"):
            a = model.lm_head.output.save()
        with tracer.invoke("Hello"):
            b = model.lm_head.output.save()
    return {"a": a, "b": b}
