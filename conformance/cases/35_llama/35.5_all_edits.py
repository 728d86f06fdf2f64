"""35.5 tracer.all() edits every step and changes later tokens"""

import nnsight
import torch

MODEL = "llama"
NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        # What follows an open-ended loop does not run in 0.8: tokens are read inside it.
        ids = nnsight.save([])
        for step in tracer.all():
            model.model.layers[0].mlp.output[:] = 0
            ids.append(model.lm_head.output[0, -1].argmax(-1))
    return {"ids": ids}
