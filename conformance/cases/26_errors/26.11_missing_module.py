"""26.11 a module the model does not have"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = {"0.5": "IndexError", "0.7": "IndexError", "0.8": "AttributeError"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        # Past the depth of any model the suite may be run against (not just the fixture's).
        x = nnsight.save(model.transformer.h[100000].output)
    return {"x": x}
