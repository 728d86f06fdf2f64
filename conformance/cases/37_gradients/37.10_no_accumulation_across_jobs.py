"""37.10 weights never accumulate gradients across jobs: two equal jobs give equal .grad"""

import nnsight
import torch

SERVER_ONLY = True
PROMPT = "The Eiffel Tower is in the city of"


def run(model):
    grads = []
    for _ in range(2):
        with model.trace(PROMPT, remote=True):
            model.lm_head.output[0, -1].logsumexp(-1).backward()
            g = nnsight.save(model.transformer.ln_f.weight.grad)
        grads.append(g)
    assert grads[0] is not None and grads[0].abs().sum() > 0, grads[0]
    assert torch.equal(grads[0], grads[1]), (grads[0] - grads[1]).abs().max()
