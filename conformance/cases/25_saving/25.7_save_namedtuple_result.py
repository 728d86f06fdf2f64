"""25.7 torch namedtuple results are saved as such"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        r = model.lm_head.output.max(dim=-1)
        saved = nnsight.save(r)
    return {"saved": saved}
