"""46.5 ndarray attributes and methods: shape, ndim, size, dtype, T, reshape, astype, tolist, item, copy, flatten, len, iteration"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §numpy"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = np.arange(6).reshape(2, 3)
        b = a.copy()
        b[0, 0] = 100
        rows = [r.tolist() for r in a]
        items = [type(x).__name__ for x in a[0]]
        attrs = nnsight.save([
            a.shape, a.ndim, a.size, str(a.dtype), a.T.tolist(), a.T.shape, a.reshape(3, 2).tolist(),
            a.reshape(-1).tolist(), a.reshape((3, -1)).shape, a.astype(np.float32).dtype.name,
            a.astype(float).tolist(), a.astype(bool).tolist(), np.array([1.7, -1.7]).astype(int).tolist(),
            a.tolist(), np.array([[2.5]]).item(), a[1, 2].item(), type(a.item(0)).__name__, a.flatten().tolist(),
            a.ravel().tolist(), len(a), len(a[0]), rows, items, a.tolist() == b.tolist(), b[0, 0],
            a.itemsize, a.nbytes, a.transpose().shape, a.squeeze().shape, a[None].shape,
            [int(x) for x in np.array([3, 4])], [float(x) for x in np.array([0.5])],
            float(np.float64(2.5)), int(np.int64(7)), bool(np.array([1])), sum(np.array([1, 2, 3])),
            list(np.array([1.5, 2.5])), sorted(np.array([3, 1, 2])), max(np.array([4, 9, 2])),
            isinstance(a, np.ndarray), isinstance(np.float64(1.0), float), isinstance(np.int64(1), np.integer),
            isinstance(a.sum(), np.int64), type(a).__name__, [10, 20, 30][np.int64(1)], 3 in a, 7 in a,
            round(np.float64(2.567), 2), f"{np.float64(0.125):.2f}", f"{np.int64(5):03d}", np.float64(2.5) > 2,
        ])
    return {"attrs": attrs}
