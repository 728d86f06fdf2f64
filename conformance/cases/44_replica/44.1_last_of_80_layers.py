"""44.1 a replica of Llama-3.1-70B: the 80th decoder layer and the logits over 128,256 tokens"""

import nnsight
import torch

MODEL = "llama-3.1-70b replica"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        last = model.model.layers[79].output.save()
        n = nnsight.save(len(model.model.layers))
        logits = model.lm_head.output[0, -1].save()
    return {"last": last, "n": n, "logits": logits}
