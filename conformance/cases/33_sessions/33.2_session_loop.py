"""33.2 a loop of traces inside a session"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.session(remote=remote):
        results = nnsight.save([])
        for p in ["one", "two three"]:
            with model.trace(p):
                results.append(model.lm_head.output[0, -1].argmax(-1))
    return {"results": results}
