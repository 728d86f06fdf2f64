"""20.26 while with break, continue and else"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        out = []
        i = 0
        while i < 10:
            i += 1
            if i % 2:
                continue
            if i > 6:
                break
            out.append(i)
        else:
            out.append("no break")
        j = 0
        while j < 3:
            j += 1
        else:
            out.append("else ran")
        a = nnsight.save(out)
    return {"a": a}
