"""46.6 ndarray indexing: ints, negatives, slices, steps, masks, integer arrays, assignment"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §numpy"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = np.arange(12).reshape(3, 4) * 1.5
        v = np.array([10, 20, 30, 40, 50])
        got = [
            a[0], a[-1], a[1, 2], a[-1, -1], a[1:], a[:, 1], a[:, -2:], a[::2], a[:, ::-1], a[::-1, ::-2],
            v[1:4], v[::-1], v[-2:], v[4:1:-1], v[[0, 2, 4]], v[np.array([4, 0])], v[v > 25],
            a[a > 6], a[[0, 2], [1, 3]], a[..., 0], a[None, 0].shape, a[1][2], v[np.array([True, False, True, False, True])],
            a[[2, 0]], a[:, [True, False, True, False]], v[-1],
        ]
        info = nnsight.save([(type(x).__name__, np.asarray(x).tolist()) for x in got])
        w = v.copy()
        w[0] = 99
        w[-1] = 1.9
        w[1:3] = [7, 8]
        w[w > 30] = 0
        w[[0, 1]] += 5
        m = np.zeros((2, 3))
        m[0] = 1
        m[:, 2] = np.array([4, 5])
        m[m == 0] = -1
        view = v[1:3]
        view[0] = -20
        edits = nnsight.save([w.tolist(), m.tolist(), v.tolist()])
    return {"info": info, "edits": edits}
