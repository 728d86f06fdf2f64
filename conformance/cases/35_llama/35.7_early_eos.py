"""35.7 generation stops at an end-of-sequence token"""

import nnsight
import torch

MODEL = "llama"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        first = tracer.result.save()
    stop = int(first[0, -2])
    with model.generate(PROMPT, max_new_tokens=6, eos_token_id=[stop, 999], remote=remote) as tracer:
        ids = tracer.result.save()
    return {"ids": ids}
