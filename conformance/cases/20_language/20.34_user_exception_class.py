"""20.34 user-defined exception classes"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        class StepError(ValueError):
            def __init__(self, step):
                super().__init__(f"step {step} failed")
                self.step = step
        out = []
        try:
            raise StepError(3)
        except ValueError as e:
            out += [str(e), e.step, isinstance(e, StepError), e.args]
        a = nnsight.save(out)
    return {"a": a}
