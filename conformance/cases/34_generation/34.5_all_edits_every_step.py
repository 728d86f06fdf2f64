"""34.5 tracer.all() edits applied every step change later tokens"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        for step in tracer.all():
            model.transformer.h[0].output[:] = model.transformer.h[0].output * 0.5
        edited = tracer.result.save()
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        plain = tracer.result.save()
    return {"edited": edited, "plain": plain}
