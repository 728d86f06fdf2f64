"""46.8 saving numpy arrays and scalars: the client gets numpy.ndarray and numpy scalars back"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §4.1 save"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        arr = nnsight.save(np.array([1.5, 2.0, -3.25]))
        ints = nnsight.save(np.arange(6).reshape(2, 3))
        small = nnsight.save(np.array([[1, 2]], dtype=np.int32))
        f32 = nnsight.save(np.linspace(0, 1, 7).astype(np.float32))
        mask = nnsight.save(np.array([True, False]))
        u8 = nnsight.save(np.array([0, 255], dtype=np.uint8))
        zero_d = nnsight.save(np.array(2.5))
        empty = nnsight.save(np.zeros((0, 2)))
        transposed = nnsight.save(np.arange(6.0).reshape(2, 3).T)
        sliced = nnsight.save(np.arange(10)[::3])
        mean = nnsight.save(np.array([1.0, 2.0, 4.0]).mean())
        count = nnsight.save(np.array([1, 2, 3]).sum())
        flag = nnsight.save(np.array([1, 2]).any())
        f32_scalar = nnsight.save(np.float32(0.1))
        nested = nnsight.save({"a": [np.array([1, 2]), np.int64(3)], "b": (np.zeros(2),)})
        dtype = nnsight.save(np.array([1.0]).dtype)
    return {"arr": arr, "ints": ints, "small": small, "f32": f32, "mask": mask, "u8": u8, "zero_d": zero_d,
            "empty": empty, "transposed": transposed, "sliced": sliced, "mean": mean, "count": count,
            "flag": flag, "f32_scalar": f32_scalar, "nested": nested, "dtype": dtype}
