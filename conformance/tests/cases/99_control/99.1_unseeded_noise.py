"""99.1 an oracle that is not deterministic (unseeded noise): the determinism control must call it INFO"""

import torch


def run(model, remote):
    with model.trace("The Eiffel Tower is in the city of", remote=remote):
        noisy = (model.transformer.h[0].output[0] + torch.randn(1)).save()
    return {"noisy": noisy}
