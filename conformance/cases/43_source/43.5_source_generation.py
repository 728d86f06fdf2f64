"""43.5 operations fire once per generation step: tracer.iter reads the attention output of each step"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"

ATTN = "attention_interface_0" if nnsight.__version__.startswith("0.7") else "attention_interface_1"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        outs = nnsight.save([])
        for step in tracer.iter[:3]:
            # The attention call: 0.7 numbers calls only (`attention_interface_0`).
            outs.append(getattr(model.transformer.h[1].attn.source, ATTN).output[0])
        ids = tracer.result.save()
    return {"outs": outs, "ids": ids}
