"""34.3 tracer.iter[1:3] visits steps 1 and 2"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        seen = nnsight.save([])
        for step in tracer.iter[1:3]:
            seen.append((step, model.transformer.h[0].output.shape))
    return {"seen": seen}
