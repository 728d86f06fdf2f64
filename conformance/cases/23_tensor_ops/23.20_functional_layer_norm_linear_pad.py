"""23.20 F.layer_norm, F.linear, F.pad"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"



def run(model, remote):
    width = model.config.hidden_size  # the served model's, never the fixture's
    with model.trace(PROMPT, remote=remote):
        import torch.nn.functional as F
        h = model.transformer.h[0].output[0]
        ln = model.transformer.ln_f
        a = nnsight.save(F.layer_norm(h, (width,), ln.weight, ln.bias, 1e-5))
        b = nnsight.save(F.linear(h, model.lm_head.weight))
        c = nnsight.save(F.pad(h[:2, :3], (1, 2)))
        d = nnsight.save(F.pad(h[:2, :3], (0, 0, 1, 0), value=-1.0))
    return {"a": a, "b": b, "c": c, "d": d}
