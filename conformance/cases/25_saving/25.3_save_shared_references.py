"""25.3 shared references stay shared"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        inner = [1, 2]
        outer = nnsight.save([inner, inner, {"again": inner}])
    return {"outer": outer}
