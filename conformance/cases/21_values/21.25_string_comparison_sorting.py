"""21.25 string comparison and sorting"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        words = ["banana", "Apple", "cherry", "apple"]
        a = nnsight.save([sorted(words), sorted(words, key=str.lower), sorted(words, key=len, reverse=True), max(words), min(words, key=len),
                          "abc" < "abd", "Z" < "a"])
    return {"a": a}
