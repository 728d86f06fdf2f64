"""26.15 IndexError on a string and TypeError on str assignment"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "TypeError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        s = "abc"
        s[0] = "x"
    return {}
