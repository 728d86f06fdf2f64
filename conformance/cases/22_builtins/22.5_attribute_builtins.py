"""22.5 hasattr, getattr, setattr, callable"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        class Box:
            pass
        b = Box()
        setattr(b, "x", 5)
        a = nnsight.save([hasattr(b, "x"), hasattr(b, "y"), getattr(b, "x"), getattr(b, "y", "default"), callable(len), callable(b),
                          callable(Box), callable(lambda: 0), hasattr("s", "upper")])
    return {"a": a}
