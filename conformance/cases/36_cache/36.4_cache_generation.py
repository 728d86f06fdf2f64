"""36.4 during generation a cache keeps one entry per step"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

OLD = nnsight.__version__.startswith(("0.5", "0.7"))


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        cache = tracer.cache(modules=[model.lm_head, model.transformer.h[0]])
    head = cache["model.lm_head"]
    if OLD:
        # 0.5's and 0.7's cache keeps a list of entries for a module that ran more than once.
        return {"steps": len(head), "logits": [e.output for e in head],
                "h0": [e.output for e in cache["model.transformer.h.0"]]}
    return {"steps": len(head), "logits": head.output, "h0": cache["model.transformer.h.0"].output}
