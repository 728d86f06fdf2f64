"""35.2 a padded batch: masks, positions and logits per row"""

import nnsight
import torch

MODEL = "llama"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(["The Eiffel Tower is in the city of", "Hello"], remote=remote):
        inputs = model.model.inputs.save()
        h = model.model.layers[1].output.save()
        logits = model.lm_head.output.save()
    return {"h": h, "logits": logits, "inputs": inputs}
