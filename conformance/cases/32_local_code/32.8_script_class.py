"""32.8 a small class defined in the script"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

class Steer:
    def __init__(self, alpha):
        self.alpha = alpha

    def apply(self, h):
        return h * self.alpha


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        s = Steer(0.5)
        model.transformer.h[0].output[:] = s.apply(model.transformer.h[0].output)
        out = nnsight.save(model.lm_head.output)
    return {"out": out}
