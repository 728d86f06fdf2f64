"""22.2 map, filter, reversed"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([list(map(str, [1, 2])), list(map(lambda x, y: x + y, [1, 2], [10, 20])), list(filter(None, [0, 1, "", "a"])),
                          list(filter(lambda x: x > 1, [1, 2, 3])), list(reversed([1, 2, 3])), list(reversed("ab"))])
    return {"a": a}
