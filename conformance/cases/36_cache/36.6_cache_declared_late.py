"""36.6 a cache declared after reading a model value is nnsight's ValueError"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
# nnsight 0.7 lets a cache start late (it records from there on).
EXPECT_ERROR = {"0.8": "ValueError"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote) as tracer:
        h = model.transformer.h[0].output
        cache = tracer.cache()
    return {}
