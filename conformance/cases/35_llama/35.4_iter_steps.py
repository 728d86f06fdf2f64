"""35.4 tracer.iter saves per-step hidden states; iter[1:3] and iter[[0, 2]]"""

import nnsight
import torch

MODEL = "llama"
NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        every = nnsight.save([])
        for step in tracer.iter[:4]:
            every.append(model.model.layers[-1].output)
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        some = nnsight.save([])
        for step in tracer.iter[1:3]:
            some.append(model.model.norm.output)
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        listed = nnsight.save([])
        for step in tracer.iter[[0, 2]]:
            listed.append(model.lm_head.output)
    return {"every": every, "some": some, "listed": listed}
