"""44.2 generation on the replica with tracer.iter: the last layer's output at every step"""

import nnsight
import torch

MODEL = "llama-3.1-70b replica"
NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, do_sample=False, remote=remote) as tracer:
        steps = nnsight.save([])
        for step in tracer.iter[:3]:
            steps.append(model.model.layers[79].output[0, -1, :8])
        ids = tracer.result.save()
    return {"steps": steps, "ids": ids}
