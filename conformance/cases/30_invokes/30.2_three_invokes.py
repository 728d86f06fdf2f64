"""30.2 three invokes, saves per invoke"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(remote=remote) as tracer:
        with tracer.invoke("one two three"):
            a = model.transformer.h[1].output.save()
        with tracer.invoke("four"):
            b = model.transformer.h[1].output.save()
        with tracer.invoke(["five six", "seven eight nine ten"]):
            c = model.transformer.h[1].output.save()
    return {"a": a, "b": b, "c": c}
