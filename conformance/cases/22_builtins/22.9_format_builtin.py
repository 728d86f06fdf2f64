"""22.9 format()"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([format(3.14159, ".3f"), format(42, "x"), format(1234.5, ",.1f"), format("s", ">4"), format(0.25, ".0%"), format(7, "04d"),
                          format(1e-7, "g"), format(123456789, "e"), format(12, "")])
    return {"a": a}
