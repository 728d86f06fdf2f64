"""46.2 numpy operators: arrays, scalars, broadcasting, comparisons, numpy's promotion"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §numpy"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = np.array([1, 2, 3])
        b = np.array([[0.5], [2.0]])
        f = np.array([1.5, -2.25, 3.0], dtype=np.float32)
        out = [
            a + 1, a * 2.5, a / 2, a // 2, a % 2, -a, a ** 2, 2 ** a, 1 - a, 10 / a,
            a + b, a * b, b - a, a / a, a // np.array([2, -2, 2]), np.array([-7, 7]) % 3,
            f + 1, f * 2.0, f + a, f / 3, f + np.float64(1), f - np.float32(0.5),
            a > 1, a == 2, a != b, 2 <= a, (a > 1) & (a < 3), (a > 2) | (a < 2), ~(a > 1),
            a & 6, a | 4, a ^ 1, a << 2, np.array([True, False]) + np.array([True, True]),
            np.array([2 ** 62, 2 ** 62]) * 4, np.array([1, 2], dtype=np.int8) * 100, abs(np.array([-1.5, 2])),
            np.array([1, 2], dtype=np.int32) + np.array([1, 2], dtype=np.int64),
            np.array([1, 2], dtype=np.int32) + 1.5, np.array([1, 2], dtype=np.int16) * np.float32(2),
        ]
        info = nnsight.save([(str(x.dtype), x.tolist()) for x in out])
        c = a.copy()
        c += 1
        c *= 3
        d = f.copy()
        d /= 2
        inplace = nnsight.save([c.tolist(), str(c.dtype), d.tolist(), str(d.dtype)])
    return {"info": info, "inplace": inplace}
