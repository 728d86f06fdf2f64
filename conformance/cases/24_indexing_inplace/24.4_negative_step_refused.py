"""24.4 a negative slice step is refused as torch refuses it"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "ValueError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        x = nnsight.save(h[0, ::-1])
    return {"x": x}
