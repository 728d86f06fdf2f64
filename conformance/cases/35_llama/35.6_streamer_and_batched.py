"""35.6 streamer outputs and batched generation across two invokes"""

import nnsight
import torch

MODEL = "llama"
NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(max_new_tokens=3, remote=remote) as tracer:
        with tracer.invoke("The Eiffel Tower is in the city of"):
            streamed = nnsight.save([])
            for step in tracer.iter[:4]:
                streamed.append(model.generator.streamer.output)
        with tracer.invoke("Hello"):
            b = nnsight.save([])
            for step in tracer.iter[:3]:
                b.append(model.lm_head.output)
        with tracer.invoke():
            ids = tracer.result.save()
    return {"streamed": streamed, "b": b, "ids": ids}
