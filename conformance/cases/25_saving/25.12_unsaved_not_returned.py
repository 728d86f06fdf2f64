"""25.12 names that were not saved are not returned"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        kept = model.transformer.h[0].output.save()
        dropped = model.transformer.h[1].output
    return {"kept": kept, "dropped_is_defined": "dropped" in dir()}
