"""21.24 bytes literals and methods"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        b = b"abc\x00\xff"
        a = nnsight.save([b, len(b), b[1], b[1:3], b.hex(), b"hi".decode(), "hé".encode(), b + b"!", bytes([65, 66]), b"x" * 3])
    return {"a": a}
