"""21.22 int methods"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([(255).bit_length(), (2 ** 100).bit_length(), (-5).bit_length(), (10).to_bytes(2, "big"),
                          int.from_bytes(b"\x01\x00", "little"), (7).conjugate(), (12).bit_count()])
    return {"a": a}
