"""26.10 asking for a module the forward already passed"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = {"0.5": "OutOfOrderError", "0.7": "MissedProviderError", "0.8": "OutOfOrderError"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        late = model.transformer.h[1].output
        early = nnsight.save(model.transformer.h[0].output)
    return {"early": early}
