"""46.7 repr and str of numpy arrays and scalars, as numpy prints them"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §numpy"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        values = [
            np.array([1, 2, 3]), np.array([1.0, 2.5, -3.0]), np.array([0.1, 0.25]), np.array([True, False]),
            np.array([[1, 22], [333, 4]]), np.array([[0.5, 1.0], [1.5, 2.0]]), np.array([1e-5, 1.0]),
            np.array([1e10, 1.0]), np.array([1.5, np.nan, np.inf]), np.array([1, 2], dtype=np.float32),
            np.array([1, 2], dtype=np.int32), np.array([0.1, 0.2], dtype=np.float32), np.zeros((2, 2, 2)),
            np.array([]), np.zeros((0, 3)), np.array(3.5), np.arange(40) * 1.25, np.arange(2000),
            np.array([1 / 3, 2 / 3]), np.array([123456789.0, 0.5]), np.array([-1, 10, -100]),
            np.float64(1.5), np.float64(3.0), np.float64(1e16), np.float64(1e-5), np.float32(0.1), np.int64(7),
            np.bool_(True), np.array([1.0, 2.0]).sum(), np.array([3, 4]).max(), np.array([1.0, 2.0]) > 1,
            np.float32(123456789.0), np.array([0.1, 0.2]).dtype, np.float64(0.1) + np.float64(0.2),
        ]
        reprs = nnsight.save([repr(x) for x in values])
        strs = nnsight.save([str(x) for x in values])
        mixed = nnsight.save(repr([np.float64(1.5), np.int64(2), (np.array([1]),)]))
        print(np.array([[1.5, 2.0], [3.0, 4.0]]))
    return {"reprs": reprs, "strs": strs, "mixed": mixed}
