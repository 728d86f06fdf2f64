"""20.29 import math, from-imports and aliases"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        import math
        from math import sqrt as root
        import torch.nn.functional as F
        from torch.nn import functional as G
        a = nnsight.save([math.floor(2.7), root(16.0), math.pi, math.isclose(0.1 + 0.2, 0.3), F is G])
    return {"a": a}
