"""44.3 a session on the replica: layer 40 of one prompt patched into another"""

import nnsight
import torch

MODEL = "llama-3.1-70b replica"


def run(model, remote):
    with model.session(remote=remote):
        with model.trace("Megan Rapinoe plays the sport of"):
            h = model.model.layers[40].output[:, -1, :]
        with model.trace("The city of"):
            model.model.layers[40].output[:, -1, :] = h
            out = model.lm_head.output[0, -1].save()
    return {"out": out}
