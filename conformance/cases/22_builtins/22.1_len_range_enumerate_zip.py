"""22.1 len, range, enumerate, zip"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([len("abc"), len([1, 2]), len({"a": 1}), list(range(3)), list(range(1, 10, 4)), list(enumerate("ab", start=5)),
                          list(zip([1, 2, 3], "ab")), list(zip(range(2), range(2), range(2)))])
    return {"a": a}
