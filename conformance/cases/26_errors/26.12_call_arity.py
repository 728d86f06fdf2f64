"""26.12 calling a function with wrong arguments"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 compiles the traced block into a function, as 0.7 does: its TypeError names `__nnsight_tracer_<n>__.<locals>.f`", "0.7": "nnsight 0.7 compiles the traced block into a function, so a function defined in the block is named `__nnsight_tracer_<n>__.<locals>.f` in its TypeError; localndif runs every client's block as the module-level code nnsight 0.8 runs"}
PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = {"0.8": "TypeError"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def f(a, b):
            return a + b
        x = nnsight.save(f(1))
    return {"x": x}
