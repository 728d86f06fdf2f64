"""21.11 list methods"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        xs = [5, 3, 8]
        xs.append(1); xs.extend([9, 2]); xs.insert(1, 7)
        p = xs.pop(); q = xs.pop(0)
        xs.remove(8)
        idx = xs.index(1)
        cnt = xs.count(3)
        xs.sort()
        ys = sorted(xs, reverse=True)
        xs.reverse()
        c = xs.copy(); c.clear()
        a = nnsight.save([xs, ys, p, q, idx, cnt, c])
    return {"a": a}
