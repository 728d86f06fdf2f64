"""40.11 a job cannot change the served weights: writes are refused, later jobs see the originals"""

import nnsight
import torch
from nnsight_case import RemoteError  # the client's remote-failure exception

SERVER_ONLY = True


def run(model):
    with model.trace("The Eiffel Tower", remote=True):
        before = model.lm_head.output.save()
    # Caught inside the job: the refusal is an ordinary RuntimeError.
    with model.trace("The Eiffel Tower", remote=True):
        w = model.transformer.h[0].mlp.c_fc.weight
        try:
            w[:] = 0
            refused = "no"
        except RuntimeError as e:
            refused = str(e)
        refused = nnsight.save(refused)
    assert "served model's weights" in refused, refused
    # Uncaught: the job ends with it.
    try:
        with model.trace("The Eiffel Tower", remote=True):
            model.lm_head.weight.mul_(0)
    except RemoteError as e:
        assert "served model's weights" in str(e), str(e)
    else:
        raise AssertionError("an in-place method on a weight was not refused")
    try:
        with model.trace("The Eiffel Tower", remote=True):
            w = model.transformer.wte.weight
            w += 1
    except RemoteError as e:
        assert "served model's weights" in str(e), str(e)
    else:
        raise AssertionError("an augmented assignment to a weight was not refused")
    with model.trace("The Eiffel Tower", remote=True):
        after = model.lm_head.output.save()
    assert torch.equal(before, after), "the weights changed"
