"""33.1 a session passes values between traces"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.session(remote=remote):
        with model.trace("Megan Rapinoe plays the sport of"):
            hs = model.transformer.h[1].output[:, -1, :]
        with model.trace("The city of"):
            model.transformer.h[1].output[:, -1, :] = hs
            out = model.lm_head.output.save()
    return {"out": out}
