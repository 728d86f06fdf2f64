"""33.7 opening a trace inside another trace's body is nnsight's error (use a session)"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "ValueError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        with model.trace("Hello"):
            x = nnsight.save(model.transformer.h[1].output)
    return {"x": x}
