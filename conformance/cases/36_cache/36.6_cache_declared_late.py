"""36.6 a cache declared after reading a model value is nnsight's ValueError"""

import nnsight
import torch

NOT_FOR = {"0.7": "0.7 returns its own Cache.CacheDict; localndif builds 0.8.1's CacheView and refuses tracer.cache() for 0.5-0.7 clients"}
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote) as tracer:
        h = model.transformer.h[0].output
        cache = tracer.cache()
    return {}
