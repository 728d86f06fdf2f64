"""23.4 softmax and log_softmax as methods and functions"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        import torch.nn.functional as F
        logits = model.lm_head.output[0, -1]
        p = nnsight.save(logits.softmax(dim=-1))
        lp = nnsight.save(F.log_softmax(logits, dim=-1))
        tp = nnsight.save(torch.softmax(logits / 2.0, -1))
    return {"p": p, "lp": lp, "tp": tp}
