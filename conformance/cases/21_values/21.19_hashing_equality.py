"""21.19 hash and equality across numeric types"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([hash(1) == hash(1.0) == hash(True), {1: "a", 1.0: "b"}, len({1, 1.0, True}), 1 == 1.0, hash((1, 2)) == hash((1, 2)),
                          {(1, "a"): 2}[(1, "a")], hash("x") == hash("x")])
    return {"a": a}
