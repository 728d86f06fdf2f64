"""21.6 round, int() truncation, and float methods"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([round(2.5), round(3.5), round(-0.5), round(2.675, 2), round(1234, -2), int(3.9), int(-3.9),
                          (2.5).is_integer(), (4.0).is_integer(), float("1e3"), float(" -2.5 ")])
    return {"a": a}
