"""34.1 greedy generation: tracer.result holds the prompt and 3 new tokens"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        ids = tracer.result.save()
    return {"ids": ids}
