"""23.2 max/min over a dim give (values, indices)"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        logits = model.lm_head.output
        m = logits.max(dim=-1)
        values = nnsight.save(m.values)
        indices = nnsight.save(m.indices)
        v, i = logits.min(-1)
        pair = nnsight.save([v, i])
    return {"values": values, "indices": indices, "pair": pair}
