"""31.9 .input and .inputs of modules"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        ids = nnsight.save(model.transformer.wte.input)
        args, kwargs = model.transformer.h[0].ln_1.inputs
        x = nnsight.save(args[0])
        kw = nnsight.save(sorted(kwargs))
    return {"ids": ids, "x": x, "kw": kw}
