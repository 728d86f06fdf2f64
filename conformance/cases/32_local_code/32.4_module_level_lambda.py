"""32.4 a lambda defined in the script"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

double = lambda t: t * 2  # noqa: E731


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        y = nnsight.save(double(model.transformer.h[0].output[0, 0, :4]))
    return {"y": y}
