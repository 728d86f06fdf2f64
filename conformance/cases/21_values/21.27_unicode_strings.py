"""21.27 unicode strings, chr and ord"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        s = "héllo wörld ✓"
        a = nnsight.save([len(s), s.upper(), ord("é"), chr(10003), s[6:], s.encode("utf-8"), "ß".upper(), "Ω".lower()])
    return {"a": a}
