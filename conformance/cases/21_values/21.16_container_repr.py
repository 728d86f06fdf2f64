"""21.16 repr and str of nested containers"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        v = [1, "two", 3.0, None, True, (4,), {"k": [5]}, {6}, [], {}, (), "q'uote", 'd"q', b"by"]
        a = nnsight.save([repr(v), str(v), repr((1,)), str({"a": (1, 2)}), repr("\n\t")])
    return {"a": a}
