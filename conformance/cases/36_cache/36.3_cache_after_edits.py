"""36.3 cached values are post-intervention: an edit shows in the cache and downstream"""

import nnsight
import torch

NOT_FOR = {"0.7": "0.7 returns its own Cache.CacheDict; localndif builds 0.8.1's CacheView and refuses tracer.cache() for 0.5-0.7 clients"}
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote) as tracer:
        cache = tracer.cache(modules=["model.transformer.h.0.mlp", "model.transformer.ln_f"], dtype=torch.float64)
        model.transformer.h[0].mlp.output = model.transformer.h[0].mlp.output * 2
    return {
        "mlp": cache["model.transformer.h.0.mlp"].output,
        "ln_f": cache["model.transformer.ln_f"].output,
    }
