"""22.15 print returns None and does not break the trace"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
# nnsight 0.5 and 0.7 never hand a saved None back to the caller's frame: their local
# run (and so the server's, for them) ends with the name unbound.
EXPECT_ERROR = {"0.5": "UnboundLocalError", "0.7": "UnboundLocalError"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        r = print("hello from the trace", 1, 2.5, sep="|")
        a = nnsight.save(r)
    return {"a": a}
