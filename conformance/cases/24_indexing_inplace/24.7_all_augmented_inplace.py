"""24.7 every augmented assignment operator on tensors"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        f = torch.arange(1.0, 7.0)
        f += 1; f -= 0.5; f *= 2; f /= 3; f //= 0.5; f %= 7; f **= 2
        m = torch.ones(2, 2)
        m @= torch.full((2, 2), 2.0)
        i = torch.arange(8)
        i &= 6; i |= 1; i ^= 3; i <<= 2; i >>= 1
        a = nnsight.save([f, m, i])
    return {"a": a}
