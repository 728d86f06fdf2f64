"""22.8 chr, ord, repr, hash, id"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x = [1]
        a = nnsight.save([chr(65), ord("a"), repr("it's"), repr(1.0), hash(7), id(x) == id(x), id(x) != id([1]), repr(None), repr(True)])
    return {"a": a}
