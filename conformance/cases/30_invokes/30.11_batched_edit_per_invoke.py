"""30.11 each invoke edits only its own rows"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(remote=remote) as tracer:
        with tracer.invoke(["a b c", "d e"]):
            model.transformer.h[1].output[:, -1] *= 0
            x = model.transformer.h[1].output.save()
        with tracer.invoke("f g h i"):
            y = model.transformer.h[1].output.save()
    return {"x": x, "y": y}
