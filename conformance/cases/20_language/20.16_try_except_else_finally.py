"""20.16 try/except/else/finally control flow"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        log = []
        for d in [2, 0]:
            try:
                r = 10 // d
            except ZeroDivisionError as e:
                log.append(("error", str(e)))
            else:
                log.append(("ok", r))
            finally:
                log.append("finally")
        a = nnsight.save(log)
    return {"a": a}
