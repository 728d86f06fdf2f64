"""34.6 the streamer sees the prompt, then each new token"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        streamed = nnsight.save([])
        for step in tracer.iter[:4]:
            streamed.append(model.generator.streamer.output)
    return {"streamed": streamed}
