"""22.7 int, float, str, bool, list, tuple, dict, set, frozenset constructors"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([int(3.99), float(2), str(12), bool([]), list("ab"), tuple([1]), dict([("a", 1)]), dict(a=1, b=2),
                          sorted(set([3, 1, 3])), sorted(frozenset("aab")), list({"x": 1}), int(), float(), str(), list(), dict(zip("ab", [1, 2]))])
    return {"a": a}
