"""25.9 ints, big ints, floats, strings, bytes, bools, None"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


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
