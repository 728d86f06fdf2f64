"""34.5 tracer.all() edits applied every step change later tokens"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        # What follows an open-ended loop does not run in 0.8 (the loop ends with the
        # run): the tokens are read inside it.
        edited = nnsight.save([])
        for step in tracer.all():
            model.transformer.h[0].output[:] = model.transformer.h[0].output * 0.5
            edited.append(model.lm_head.output[0, -1].argmax(-1))
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        plain = tracer.result.save()
    return {"edited": edited, "plain": plain}
