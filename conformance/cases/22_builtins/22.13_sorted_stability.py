"""22.13 sorted is stable, with key and reverse"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        recs = [("b", 2), ("a", 2), ("c", 1), ("d", 1)]
        a = nnsight.save([sorted(recs, key=lambda r: r[1]), sorted(recs, key=lambda r: r[1], reverse=True), sorted([3, 1, 2], reverse=True)])
    return {"a": a}
