"""25.9 ints, big ints, floats, strings, bytes, bools, None"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
# nnsight 0.5 and 0.7 never hand a saved None back to the caller's frame: their local
# run (and so the server's, for them) ends with the name unbound.
EXPECT_ERROR = {"0.5": "UnboundLocalError", "0.7": "UnboundLocalError"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save(7)
        b = nnsight.save(2 ** 200)
        c = nnsight.save(-1.25)
        d = nnsight.save("tower")
        e = nnsight.save(b"\x00\x01")
        f = nnsight.save(True)
        g = nnsight.save(None)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g}
