"""30.12 a prompt gives the same logits alone and batched"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"



def run(model, remote):
    with model.trace("Hello world", remote=remote):
        solo = model.lm_head.output.save()
    with model.trace(remote=remote) as tracer:
        with tracer.invoke("The Eiffel Tower is in the city of"):
            pass
        with tracer.invoke("Hello world"):
            batched = model.lm_head.output.save()
    return {"solo": solo, "batched": batched}
