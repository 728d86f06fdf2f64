"""36.4 during generation a cache keeps one entry per step"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        cache = tracer.cache(modules=[model.lm_head, model.transformer.h[0]])
    head = cache["model.lm_head"]
    return {"steps": len(head), "logits": head.output, "h0": cache["model.transformer.h.0"].output}
