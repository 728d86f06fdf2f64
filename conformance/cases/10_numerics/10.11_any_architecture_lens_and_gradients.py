"""10.11 any architecture: the logit lens through the final norm at every block, a skipped block, gradients into two blocks (one rescaled), a cache of every block, through envoys bound before the trace"""

import nnsight
from nnsight_case import blocks, final_norm

SPEC = "semantics.md §7 Other features"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    h, norm = blocks(model), final_norm(model)
    with model.trace(PROMPT, remote=remote):
        lens = nnsight.save([model.lm_head(norm(layer.output))[0, -1].argmax(-1) for layer in h])
    with model.trace(PROMPT, remote=remote):
        h[1].skip(h[1].input)
        skipped = model.lm_head.output.save()
    with model.trace(PROMPT, remote=remote) as tracer:
        cache = tracer.cache(modules=[layer for layer in h])
        h0 = h[0].output
        h1 = h[1].output
        loss = model.lm_head.output[0, -1].log_softmax(-1).max()
        with loss.backward():
            g1 = h1.grad.save()
            h1.grad = h1.grad * 0.5
            g0 = h0.grad.save()
    return {"lens": lens, "skipped": skipped, "g1": g1, "g0": g0, "layers": [cache[k].output for k in cache.keys()]}
