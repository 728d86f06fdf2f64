"""47.4 einops in a trace: rearrange, reduce and repeat on activations, and an edit written with them"""

import nnsight
from einops import rearrange, reduce, repeat

PROMPT = "The Eiffel Tower is in the city of"
SPEC = "semantics.md §1.3 Three kinds of body"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        heads = rearrange(h, "b s (nh d) -> b nh s d", nh=4).save()
        merged = rearrange(heads, "b nh s d -> (b s) (nh d)").save()
        pooled = reduce(h, "b s d -> b d", "mean").save()
        peak = reduce(h, "b (s two) d -> b s d", "max", two=2).save()
        tiled = repeat(pooled, "b d -> b k d", k=3).save()
        flat = rearrange(h, "b ... -> b (...)").save()
        unit = rearrange(pooled, "b d -> b 1 d").save()
        model.transformer.h[1].output[:] = rearrange(
            rearrange(model.transformer.h[1].output, "b s d -> s b d") * 0.5, "s b d -> b s d"
        )
        logits = model.lm_head.output.save()
    return {"heads": heads, "merged": merged, "pooled": pooled, "peak": peak, "tiled": tiled,
            "flat": flat, "unit": unit, "logits": logits}
