"""21.28 None, truthiness of values"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        vals = [0, 1, "", "a", [], [0], {}, {"k": 0}, None, 0.0, -0.0, (), set()]
        a = nnsight.save([bool(v) for v in vals] + [None == None, not None])
    return {"a": a}
