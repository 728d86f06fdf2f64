"""21.26 min and max with key and default"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([max([1, 5, 3]), min(4, 2, 8), max("abc"), max([], default=-1), min([(1, "b"), (1, "a")]),
                          max([3, -7, 5], key=abs), min({"x": 3, "y": 1}, key={"x": 3, "y": 1}.get)])
    return {"a": a}
