"""23.5 elementwise arithmetic with tensors and scalars"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        a = nnsight.save(h * 2 + 1)
        b = nnsight.save(1 - h / 3)
        c = nnsight.save(h ** 2 - h.abs())
        d = nnsight.save(-h // 0.5)
        e = nnsight.save(h % 0.3)
        f = nnsight.save(2 ** h.clamp(-2, 2))
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}
