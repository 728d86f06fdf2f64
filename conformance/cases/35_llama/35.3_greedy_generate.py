"""35.3 greedy generation of 3 and 5 tokens"""

import nnsight
import torch

MODEL = "llama"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        three = tracer.result.save()
    with model.generate(PROMPT, max_new_tokens=5, remote=remote) as tracer:
        five = tracer.result.save()
    return {"three": three, "five": five}
