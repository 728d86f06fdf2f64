"""34.2 tracer.iter over 5 steps saves each step's hidden state and logits"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=5, remote=remote) as tracer:
        hidden = nnsight.save([])
        logits = nnsight.save([])
        for step in tracer.iter[:5]:
            hidden.append(model.transformer.h[-1].output)
            logits.append(model.lm_head.output)
        ids = tracer.result.save()
    return {"hidden": hidden, "logits": logits, "ids": ids}
