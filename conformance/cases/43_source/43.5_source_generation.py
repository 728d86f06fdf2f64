"""43.5 operations fire once per generation step: tracer.iter reads the attention output of each step"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        outs = nnsight.save([])
        for step in tracer.iter[:3]:
            outs.append(model.transformer.h[1].attn.source.attention_interface_1.output[0])
        ids = tracer.result.save()
    return {"outs": outs, "ids": ids}
