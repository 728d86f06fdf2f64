"""30.4 an empty invoke sees the whole batch"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(remote=remote) as tracer:
        with tracer.invoke("The Eiffel Tower"):
            pass
        with tracer.invoke(["a b", "c d e f"]):
            pass
        with tracer.invoke():
            ids = model.transformer.wte.input.save()
            everything = model.lm_head.output.save()
    return {"everything": everything, "ids": ids}
