"""34.13 sampling with a seed set in the trace is bit-equal"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=5, do_sample=True, temperature=0.8, top_k=20, top_p=0.9, remote=remote) as tracer:
        torch.manual_seed(1234)
        ids = tracer.result.save()
    return {"ids": ids}
