"""36.2 a cache of a subset (envoys and path strings) with inputs: .inputs, .input, .output"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote) as tracer:
        cache = tracer.cache(modules=[model.transformer.h[1], "model.lm_head"], include_inputs=True)
    h1 = cache["model.transformer.h.1"]
    head = cache["model.lm_head"]
    return {
        "keys": list(cache.keys()),
        "h1_out": h1.output,
        "h1_in": h1.input,
        "head_inputs": head.inputs,
        "head_out": head.output,
        "has_h0": "model.transformer.h.0" in cache,
        "has_h1": "model.transformer.h.1" in cache,
    }
