"""10.7 token-id lists and tensors (with an attention_mask keyword) as trace inputs"""

import torch


def run(model, remote):
    with model.trace([[264, 614, 394, 273]], remote=remote):
        from_ids = model.lm_head.output.save()
    ids = torch.tensor([[264, 614, 394, 273], [271, 268, 264, 614]])
    mask = torch.tensor([[1, 1, 1, 1], [0, 1, 1, 1]])
    with model.trace(ids, attention_mask=mask, remote=remote):
        from_tensor = model.transformer.h[1].output.save()
    return {"from_ids": from_ids, "from_tensor": from_tensor}
