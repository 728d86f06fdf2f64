"""36.3 cached values are post-intervention: an edit shows in the cache and downstream"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote) as tracer:
        cache = tracer.cache(modules=["model.transformer.h.0.mlp", "model.transformer.ln_f"], dtype=torch.float64)
        model.transformer.h[0].mlp.output = model.transformer.h[0].mlp.output * 2
    return {
        "mlp": cache["model.transformer.h.0.mlp"].output,
        "ln_f": cache["model.transformer.ln_f"].output,
    }
