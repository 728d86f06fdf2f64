"""21.7 bool as int"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([True + True, True * 10, sum([True, False, True]), int(True), True == 1, isinstance(True, int), -True, ~False])
    return {"a": a}
