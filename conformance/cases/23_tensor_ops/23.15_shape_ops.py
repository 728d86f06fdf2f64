"""23.15 view, reshape, transpose, permute, squeeze, unsqueeze, flatten, expand"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    width = model.config.hidden_size  # the served model's, never the fixture's
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        a = nnsight.save([h.view(-1, width).shape, h.reshape(1, -1).shape, h.transpose(1, 2).shape, h.permute(2, 0, 1).shape,
                          h.squeeze(0).shape, h.unsqueeze(1).shape, h.flatten().shape, h[:, :1].expand(1, 4, width).shape,
                          h.flatten(1).shape, h.T.shape if h.dim() == 2 else h[0].T.shape, h.mT.shape, h.contiguous().is_contiguous()])
        v = nnsight.save(h.view(-1, width)[2])
    return {"a": a, "v": v}
