"""31.12 outputs of nested modules in event order"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save(model.transformer.wte.output)
        b = nnsight.save(model.transformer.h[0].ln_1.output)
        c = nnsight.save(model.transformer.h[0].attn.c_attn.output)
        d = nnsight.save(model.transformer.h[0].mlp.act.output)
        e = nnsight.save(model.transformer.ln_f.output)
    return {"a": a, "b": b, "c": c, "d": d, "e": e}
