"""31.7 model.get, named_modules and module paths"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        mlp = model.get("transformer.h.0.mlp")
        names = nnsight.save([name for name, _ in model.named_modules()][:6])
        out = nnsight.save(mlp.output)
        p = nnsight.save(mlp.path)
    return {"names": names, "out": out, "p": p}
