"""20.17 raise ... from, and catching by base class"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def parse(s):
            try:
                return int(s)
            except ValueError as e:
                raise RuntimeError("bad value " + s) from e
        caught = []
        try:
            parse("x")
        except RuntimeError as e:
            caught.append(str(e))
            caught.append(type(e.__cause__).__name__)
        try:
            [][1]
        except LookupError as e:
            caught.append(type(e).__name__)
        a = nnsight.save(caught)
    return {"a": a}
