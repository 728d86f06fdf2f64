"""31.6 iterating module lists, len, indexing from the end"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        n = nnsight.save(len(model.transformer.h))
        paths = nnsight.save([layer.path for layer in model.transformer.h])
        last = nnsight.save(model.transformer.h[-1].output)
    return {"n": n, "paths": paths, "last": last}
