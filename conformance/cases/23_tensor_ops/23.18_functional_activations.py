"""23.18 F.gelu, relu, silu, tanh, sigmoid"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        import torch.nn.functional as F
        h = model.transformer.h[0].output[0]
        a = nnsight.save([F.gelu(h), F.relu(h), F.silu(h), torch.tanh(h), torch.sigmoid(h), h.relu(), F.gelu(h, approximate="tanh"), torch.exp(h[:1]), h[:1].log1p().isnan().any()])
    return {"a": a}
