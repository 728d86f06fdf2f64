"""25.5 model.output is the transformers ModelOutput"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        out = model.output.save()
    return {"out": out}
