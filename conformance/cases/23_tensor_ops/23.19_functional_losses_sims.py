"""23.19 F.cross_entropy, cosine_similarity, normalize, one_hot"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"



def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        import torch.nn.functional as F
        ids = model.transformer.wte.input
        logits = model.lm_head.output[0]
        ce = nnsight.save(F.cross_entropy(logits[:-1], ids[0, 1:]))
        cs = nnsight.save(F.cosine_similarity(logits[0], logits[1], dim=0))
        nm = nnsight.save(F.normalize(logits, dim=-1))
        oh = nnsight.save(F.one_hot(ids[0], num_classes=1000).sum(0))
    return {"ce": ce, "cs": cs, "nm": nm, "oh": oh}
