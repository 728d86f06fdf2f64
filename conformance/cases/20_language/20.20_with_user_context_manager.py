"""20.20 with over a user-defined context manager"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        class Recorder:
            def __init__(self):
                self.events = []
            def __enter__(self):
                self.events.append("enter")
                return self
            def __exit__(self, typ, value, tb):
                self.events.append("exit " + (typ.__name__ if typ else "clean"))
                return typ is KeyError
        r = Recorder()
        with r as inner:
            inner.events.append("body")
        with r:
            raise KeyError("swallowed")
        a = nnsight.save(r.events)
    return {"a": a}
