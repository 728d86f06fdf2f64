"""32.21 a script's nn.Sequential probe (Linear, LayerNorm, GELU, Dropout) with a buffer, read through parameters() and applied"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


class Probe(torch.nn.Module):
    def __init__(self, width):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(width, 24),
            torch.nn.LayerNorm(24),
            torch.nn.GELU(approximate="tanh"),
            torch.nn.Dropout(0.1),
            torch.nn.Linear(24, 3),
        )
        self.register_buffer("center", torch.linspace(-1, 1, width))

    def forward(self, x):
        return self.net(x - self.center).softmax(-1)


def run(model, remote):
    torch.manual_seed(1)
    probe = Probe(model.config.hidden_size).eval()
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[1].output[0]
        probs = probe(h).save()
        n = nnsight.save(sum(p.numel() for p in probe.parameters()))
        names = nnsight.save([name for name, _ in probe.named_parameters()])
        first = nnsight.save(probe.net[0].out_features)
    return {"probs": probs, "n": n, "names": names, "first": first}
