"""20.6 lambda as a sort key and in map"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        words = ["pear", "fig", "banana", "kiwi"]
        a = nnsight.save(sorted(words, key=lambda w: (len(w), w)))
        b = nnsight.save(list(map(lambda x: x * x, range(5))))
    return {"a": a, "b": b}
