"""26.10 asking for a module the forward already passed"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        late = model.transformer.h[1].output
        early = nnsight.save(model.transformer.h[0].output)
    return {"early": early}
