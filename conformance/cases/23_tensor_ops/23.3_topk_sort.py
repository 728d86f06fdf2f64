"""23.3 topk and sort"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        logits = model.lm_head.output[0, -1]
        top = logits.topk(5)
        vals = nnsight.save(top.values)
        idx = nnsight.save(top.indices)
        s = torch.sort(logits[:10], descending=True)
        svals = nnsight.save(s.values)
        sidx = nnsight.save(s.indices)
        smallest = nnsight.save(logits.topk(3, largest=False).indices)
    return {"vals": vals, "idx": idx, "svals": svals, "sidx": sidx, "smallest": smallest}
