"""46.12 numpy values made before the trace and used inside it (shipped with the captured variables)"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §numpy"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    weights = np.array([0.5, 0.25, 0.25])
    positions = np.arange(3)
    table = np.eye(2, dtype=np.float32)
    mask = np.array([True, False, True])
    scale = np.float64(0.5)
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        picked = h[positions[mask]].sum().item()
        out = nnsight.save([(weights * 2).tolist(), str(weights.dtype), positions.sum(), table @ table, mask.any(), scale * 4,
                            repr(table), float(np.dot(weights, weights))])
        mixed = nnsight.save(picked * weights)
        same = nnsight.save(weights)
    return {"out": out, "mixed": mixed, "same": same}
