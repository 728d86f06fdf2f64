"""20.18 except (A, B) as e"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        out = []
        for f in [lambda: {}["k"], lambda: 1 / 0, lambda: int("z")]:
            try:
                f()
            except (KeyError, ZeroDivisionError) as e:
                out.append(type(e).__name__)
            except Exception as e:
                out.append("other " + type(e).__name__)
        a = nnsight.save(out)
    return {"a": a}
