"""44.4 gradients on the replica: a loss at the head w.r.t. the first and the last decoder layers"""

import nnsight
import torch

MODEL = "llama-3.1-70b replica"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        first = model.model.layers[0].output
        last = model.model.layers[79].output
        loss = model.lm_head.output[0, -1].logsumexp(-1)
        with loss.backward():
            g_last = last.grad.save()
            g_first = first.grad.save()
    return {"g_last": g_last, "g_first": g_first}
