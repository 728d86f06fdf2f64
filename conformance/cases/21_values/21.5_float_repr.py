"""21.5 float repr and str like CPython"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        vals = [0.1 + 0.2, 1e16, 1e-5, 123456789.123, 1 / 3, 2.0, -0.0, 1e22, 5e-324, float("inf"), 1.5e300 * 1e10]
        a = nnsight.save([repr(v) for v in vals] + [str(v) for v in vals[:4]])
    return {"a": a}
