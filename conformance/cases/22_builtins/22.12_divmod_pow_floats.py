"""22.12 divmod and pow with floats"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([divmod(7.5, 2), divmod(-7.5, 2), pow(2.0, 0.5), pow(4, 0.5), 2 ** 0.5, (-2) ** 2, 10 ** -2])
    return {"a": a}
