"""36.5 navigating a cache (cache.transformer.h[0], cache.model...) in a session, then patching with it"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

OLD = nnsight.__version__.startswith(("0.5", "0.7"))


def run(model, remote):
    with model.session(remote=remote):
        with model.trace("Megan Rapinoe plays the sport of") as tracer:
            cache = tracer.cache()
        # 0.5's and 0.7's CacheDict has no short form (paths start at `model`).
        root = cache.model if OLD else cache
        short = root.transformer.h[0].output
        full = cache.model.transformer.h[1].output
        by_path = cache["model.transformer.h.1"].output
        same = nnsight.save(torch.equal(full, by_path))
        n = nnsight.save(len(root.transformer.h[1]))
        keys = nnsight.save(list(root.transformer.h[1].keys()))
        with model.trace(PROMPT):
            model.transformer.h[1].output[:, -1, :] = full[:, -1, :]
            out = model.lm_head.output.save()
        h0 = nnsight.save(short)
    return {"same": same, "n": n, "keys": keys, "out": out, "h0": h0}
