"""23.16 to(), float(), long(), half(), bool(), cpu(), dtype and device"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0, :2, :3]
        a = nnsight.save([h.to(torch.float64), h.long(), h.int(), h.bool(), h.double(), h.cpu(), h.to("cpu"), h.dtype, h.device,
                          h.float().dtype, (h * 10).to(torch.int32), h.type(torch.float16)])
    return {"a": a}
