"""30.8 forward keyword arguments through the trace"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace("The Eiffel Tower is in the city of", output_hidden_states=True, remote=remote):
        out = model.output.save()
    return {"hidden": list(out.hidden_states), "logits": out.logits}
