"""34.12 min_new_tokens holds off the end-of-sequence token"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        first = tracer.result.save()
    stop = int(first[0, -3])
    with model.generate(PROMPT, max_new_tokens=5, min_new_tokens=3, eos_token_id=stop, remote=remote) as tracer:
        ids = tracer.result.save()
    return {"ids": ids}
