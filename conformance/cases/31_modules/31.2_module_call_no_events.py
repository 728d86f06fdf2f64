"""31.2 calling a module does not consume its event"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"



def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h0 = model.transformer.h[0].output
        again = nnsight.save(model.transformer.h[1](h0))
        real = nnsight.save(model.transformer.h[1].output)
    return {"again": again, "real": real}
