"""21.14 set operations"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        s, t = {1, 2, 3, 4}, {3, 4, 5}
        u = set(s)
        u.add(10); u.discard(1); u.discard(99)
        a = nnsight.save([sorted(s | t), sorted(s & t), sorted(s - t), sorted(s ^ t), sorted(u), s <= {1, 2, 3, 4, 5},
                          s.isdisjoint({9}), sorted(s.union([7])), len(frozenset([1, 1, 2]))])
    return {"a": a}
