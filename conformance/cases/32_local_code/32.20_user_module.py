"""32.20 a small torch.nn.Module defined in the script (an SAE) is applied inside the trace"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


class SAE(torch.nn.Module):
    def __init__(self, d, k):
        super().__init__()
        self.enc = torch.nn.Linear(d, k)
        self.dec = torch.nn.Linear(k, d, bias=False)
        self.scale = torch.nn.Parameter(torch.full((k,), 0.5))

    def forward(self, x):
        z = torch.relu(self.enc(x)) * self.scale
        return self.dec(z), z


def run(model, remote):
    torch.manual_seed(0)
    sae = SAE(model.config.hidden_size, 16)
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        recon, z = sae(h)
        model.transformer.h[0].output = recon
        z = z.save()
        logits = model.lm_head.output.save()
    return {"z": z, "logits": logits}
