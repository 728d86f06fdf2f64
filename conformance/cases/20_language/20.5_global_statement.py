"""20.5 the global statement inside a function"""

import nnsight
import torch

NOT_FOR = {"0.5": "nnsight 0.5 compiles the traced block into a function, as 0.7 does (NameError in its local run)", "0.7": "nnsight 0.7 compiles the traced block into a function, so `global total` in a nested def names the script's globals, where `total` does not exist (NameError); localndif runs every client's block as the module-level code nnsight 0.8 runs"}
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        total = 10
        def add(n):
            global total
            total = total + n
            return total
        add(5)
        a = nnsight.save(add(7))
    return {"a": a}
