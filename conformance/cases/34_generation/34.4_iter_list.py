"""34.4 tracer.iter[[0, 2]] visits the listed steps"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        seen = nnsight.save([])
        for step in tracer.iter[[0, 2]]:
            seen.append(model.lm_head.output[0, -1].argmax(-1))
    return {"seen": seen}
