"""22.4 isinstance, issubclass, type"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        a = nnsight.save([isinstance(1, int), isinstance(1.0, (int, float)), isinstance("s", (list, tuple)), isinstance(True, int),
                          issubclass(bool, int), issubclass(KeyError, LookupError), type(1).__name__, type([]) is list, type("x") == str,
                          isinstance(None, type(None)), type(3.0).__name__, isinstance([], object)])
    return {"a": a}
