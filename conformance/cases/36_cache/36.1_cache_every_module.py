"""36.1 tracer.cache() records every module's output, keyed by path in call order"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote) as tracer:
        cache = tracer.cache()
    keys = list(cache.keys())
    out = {"keys": keys, "count": len(keys)}
    # A returned view has no model (0.8.1's `Cache.__getstate__`), so only dotted paths
    # resolve on the client: the root "model" entry is read through `keys()` alone.
    for k in keys:
        if "." in k:
            out[k] = cache[k].output
    return out
