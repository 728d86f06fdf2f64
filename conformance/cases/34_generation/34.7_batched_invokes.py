"""34.7 batched generation across two invokes of different lengths"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(max_new_tokens=3, remote=remote) as tracer:
        with tracer.invoke("The Eiffel Tower is in the city of"):
            a_h = model.transformer.h[0].output.save()
            a_ids = tracer.result.save()
        with tracer.invoke("Hello"):
            b_logits = nnsight.save([])
            for step in tracer.iter[:3]:
                b_logits.append(model.lm_head.output)
    return {"a_h": a_h, "a_ids": a_ids, "b_logits": b_logits}
