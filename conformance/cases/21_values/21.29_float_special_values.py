"""21.29 inf, nan and float arithmetic corners"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        import math
        inf = float("inf")
        a = nnsight.save([inf - inf != inf - inf, math.isnan(inf * 0), 1 / inf, -inf < -1e308, math.isinf(10.0 ** 308 * 10),
                          1e308 * 10 == inf, math.copysign(1, -0.0), 0.1 * 3, 1.1 + 2.2, 3 * 1.1])
    return {"a": a}
