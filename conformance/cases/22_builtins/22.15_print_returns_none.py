"""22.15 print returns None and does not break the trace"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        r = print("hello from the trace", 1, 2.5, sep="|")
        a = nnsight.save(r)
    return {"a": a}
