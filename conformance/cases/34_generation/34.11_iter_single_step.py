"""34.11 tracer.iter[2] binds to step 2 only"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        for step in tracer.iter[2]:
            h = model.transformer.h[1].output.save()
            s = nnsight.save(step)
    return {"h": h, "s": s}
