"""46.1 numpy arrays from lists and factories, with numpy's dtype inference"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §numpy"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        ints = np.array([1, 2, 3])
        floats = np.array([[1.0, 2.5], [3, 4]])
        bools = np.array([True, False, True])
        mixed = np.array([True, 2])
        made = [
            ints, floats, bools, mixed,
            np.array([1, 2], dtype=np.float32), np.array([0.5, 1.5], dtype="int32"),
            np.array(7), np.array([]), np.array([[1, 2], [3, 4]], dtype=float),
            np.zeros(3), np.zeros((2, 3), dtype=np.int64), np.ones(4, dtype=bool), np.ones((2, 2)),
            np.full((2, 2), 7), np.full(3, 0.5, dtype=np.float32), np.arange(5), np.arange(1, 2, 0.25),
            np.arange(10, 0, -3), np.arange(3.0), np.linspace(0, 1, 5), np.linspace(0, 1, 4, endpoint=False),
            np.linspace(-2.5, 7.25, 11), np.eye(3), np.eye(2, 3, k=1, dtype=int), np.zeros_like(floats),
            np.ones_like(ints), np.full_like(bools, 1), np.empty(0), np.array(np.array([1, 2])),
            np.array([np.float32(1.5), 2]), np.asarray([1.0, 2.0]), np.identity(2),
        ]
        info = nnsight.save([(str(a.dtype), a.shape, a.tolist()) for a in made])
        dtypes = nnsight.save([np.float32(1).dtype.name, np.dtype("float64").name, np.int64(3).dtype.itemsize,
                               ints.dtype == np.int64, floats.dtype == "float64", bools.dtype.kind, str(np.float16)])
    return {"info": info, "dtypes": dtypes}
