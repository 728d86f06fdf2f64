"""30.5 a value computed in one invoke used in a later one"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(remote=remote) as tracer:
        with tracer.invoke("The Eiffel Tower is in the city of"):
            clean = model.transformer.h[0].output[:, -1, :]
        with tracer.invoke("The Colosseum is in the city of"):
            h = model.transformer.h[0].output
            h[:, -1, :] = clean
            patched = model.lm_head.output.save()
    return {"patched": patched}
