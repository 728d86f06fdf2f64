"""21.8 int() and float() parsing"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([int("42"), int("-0x1f", 16), int("ff", 16), int("0b101", 0), int("  7  "), int("1_000"),
                          float("inf") > 1e308, float("-inf") < 0, float("nan") != float("nan")])
    return {"a": a}
