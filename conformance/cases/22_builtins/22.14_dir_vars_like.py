"""22.14 getattr on modules and builtin names"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        import math
        a = nnsight.save([getattr(math, "sqrt")(9.0), hasattr(math, "nope"), getattr(len, "__name__"), abs.__name__])
    return {"a": a}
