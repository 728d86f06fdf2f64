"""46.4 numpy functions: concatenate, stack, where, ufuncs, sort, argsort, unique, dot, matmul"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §numpy"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = np.array([3, 1, 2, 3, 1])
        x = np.array([[1.0, 4.0], [9.0, 16.0]])
        v = np.array([1, 2])
        out = [
            np.concatenate([a, a]), np.concatenate((x, x), axis=1), np.concatenate([v, np.array([0.5])]),
            np.stack([v, v]), np.stack([v, v], axis=1), np.vstack([v, v]), np.hstack([v, v]),
            np.where(a > 1, a, 0), np.where(x > 4, x, -x), np.where(a == 3)[0],
            np.abs(np.array([-2, 3])), np.absolute(np.array([-1.5])), np.sqrt(x), np.sqrt(a),
            np.exp(np.array([0.0, 1.0])), np.log(np.array([1.0, np.e])), np.exp(v), np.log(x),
            np.sort(a), np.sort(x, axis=0), np.argsort(a), np.argsort(-x, axis=1), np.unique(a),
            np.dot(v, v), np.dot(x, v), np.matmul(x, x), x @ x, v @ x, np.maximum(a, 2), np.minimum(x, 5.0),
            np.clip(a, 1.5, 2.5), np.round(np.array([0.5, 1.5, 2.567]), 1), np.square(v), np.sign(np.array([-2.0, 0.0, 3.0])),
            np.isnan(np.array([1.0, np.nan])), np.floor(np.array([1.5, -1.5])), np.ceil(np.array([1.2])),
            np.mean(np.stack([x, x]), axis=0), np.transpose(x), np.reshape(a, (5, 1)), np.squeeze(np.array([[1], [2]])),
            np.expand_dims(v, 0), np.flip(a), np.diff(a), np.count_nonzero(a > 1), np.allclose(x, x),
        ]
        u, counts = np.unique(a, return_counts=True)
        info = nnsight.save([(str(np.asarray(r).dtype), np.shape(r), np.asarray(r).tolist()) for r in out])
        uniq = nnsight.save([u.tolist(), counts.tolist(), str(counts.dtype)])
    return {"info": info, "uniq": uniq}
