"""30.10 invokes opened in a loop over prompts"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    prompts = ["one", "two three", "four five six"]
    with model.trace(remote=remote) as tracer:
        outs = nnsight.save([])
        for p in prompts:
            with tracer.invoke(p):
                outs.append(model.lm_head.output[0, -1].argmax())
    return {"outs": outs}
