"""23.17 item, tolist, numel, dim, size, shape indexing"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        a = nnsight.save([h[0, 0, 0].item(), h[0, :2, :2].tolist(), h.numel(), h.dim(), h.size(), h.size(-1), h.shape[1], list(h.shape), len(h[0]),
                          h.ndim, h.nelement()])
    return {"a": a}
