"""20.7 a class with __init__, methods and attributes"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        class Acc:
            def __init__(self, start):
                self.total = start
                self.items = []
            def add(self, x):
                self.total += x
                self.items.append(x)
                return self
        acc = Acc(1).add(2).add(3)
        a = nnsight.save([acc.total, acc.items, type(acc).__name__])
    return {"a": a}
