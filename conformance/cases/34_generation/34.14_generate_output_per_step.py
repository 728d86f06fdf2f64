"""34.14 model.output per step and tracer.stop() inside generation"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=5, remote=remote) as tracer:
        outs = nnsight.save([])
        for step in tracer.iter[:2]:
            outs.append(model.output.logits)
        tracer.stop()
    return {"outs": outs}
