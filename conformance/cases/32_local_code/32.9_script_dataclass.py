"""32.9 a dataclass instance built in the script"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

from dataclasses import dataclass


@dataclass
class SteerConfig:
    layer: int
    alpha: float = 1.0


def run(model, remote):
    cfg = SteerConfig(layer=1, alpha=0.25)
    with model.trace(PROMPT, remote=remote):
        model.transformer.h[cfg.layer].output[:] *= cfg.alpha
        out = model.lm_head.output.save()
        again = nnsight.save(repr(SteerConfig(0, 1.0)))
    return {"out": out, "again": again}
