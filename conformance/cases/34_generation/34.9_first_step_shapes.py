"""34.9 at step 0 lm_head sees only the last position; model.inputs of each step"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=2, remote=remote) as tracer:
        shapes = nnsight.save([])
        for step in tracer.iter[:2]:
            args, kwargs = model.inputs
            shapes.append((sorted(kwargs), kwargs["input_ids"], kwargs["position_ids"], kwargs["logits_to_keep"]))
            shapes.append(model.lm_head.output.shape)
    return {"shapes": shapes}
