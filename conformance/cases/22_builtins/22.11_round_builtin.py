"""22.11 round() with ties to even and ndigits"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([round(0.5), round(1.5), round(2.5), round(-1.5), round(3.14159, 3), round(1.005, 2), round(15, -1), round(25, -1), round(7)])
    return {"a": a}
