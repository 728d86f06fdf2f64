"""46.3 numpy reductions: methods and functions, axis / keepdims, numpy scalar results"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §numpy"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        m = np.array([[0.1, 0.7, 0.2], [0.4, 0.4, 0.9]])
        i = np.array([[3, 1, 2], [5, 9, 4]])
        bools = np.array([True, False, True, True])
        long = np.arange(300) * 0.1
        scalars = [
            m.sum(), m.mean(), m.max(), m.min(), m.argmax(), m.argmin(), m.std(), m.var(), m.prod(),
            i.sum(), i.mean(), i.max(), i.argmax(), i.std(), i.prod(), bools.sum(), bools.mean(),
            np.sum(m), np.mean(i), np.max(i), np.min(m), np.argmax(m), np.argmin(i), np.std(m),
            np.var(i), np.prod(i), long.sum(), long.mean(), long.std(), np.sum([1, 2, 3]),
            m.std(ddof=1), np.float32(2.5) * 2, np.array([1.5, 2.5], dtype=np.float32).sum(),
            bools.any(), bools.all(), np.median(np.array([3.0, 1.0, 2.0])),
        ]
        types = nnsight.save([type(s).__name__ for s in scalars])
        values = nnsight.save(scalars)
        arrays = [
            m.sum(axis=0), m.sum(axis=1), m.sum(axis=-1, keepdims=True), m.mean(axis=0), i.mean(axis=1),
            m.max(axis=1), i.min(axis=0), m.argmax(axis=1), i.argmin(axis=0), m.std(axis=0), i.var(axis=1),
            i.prod(axis=0), m.cumsum(), i.cumsum(axis=1), m.cumsum(axis=0), np.sum(i, axis=0, keepdims=True),
            np.mean(m, axis=1), np.max(m, axis=0), np.cumsum(bools), m.sum(keepdims=True), long.reshape(30, 10).sum(axis=0),
            long.reshape(30, 10).sum(axis=1), np.sum(m.T), m.T.sum(axis=1), bools.sum(axis=0),
        ]
        reduced = nnsight.save([(str(a.dtype), a.shape, a.tolist()) for a in arrays])
    return {"types": types, "values": values, "reduced": reduced}
