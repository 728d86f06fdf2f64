"""23.24 abs, sqrt, exp, log, sin, cos, floor, ceil, round, sign"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        t = torch.tensor([-1.5, -0.5, 0.25, 2.0, 9.0])
        a = nnsight.save([t.abs(), t.abs().sqrt(), t.exp(), t.abs().log(), t.sin(), t.cos(), t.floor(), t.ceil(), t.round(), t.sign(), torch.rsqrt(t.abs()),
                          t.neg(), t.reciprocal(), t.pow(2), t.square(), torch.log2(t.abs()), t.trunc(), t.frac()])
    return {"a": a}
