"""24.11 an index out of range raises torch's IndexError"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "IndexError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        x = nnsight.save(h[0, 100])
    return {"x": x}
