"""33.5 model.edit() in a session: the edited copy replays the edit in later traces, the original stays clean"""

import nnsight
import torch

# 0.8.1 binds (tracer, edited); 0.5 and 0.7 bind the edited model alone.
NEW = not nnsight.__version__.startswith(("0.5", "0.7"))
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.session(remote=remote):
        if NEW:
            with model.edit() as (tracer, edited):
                edited.transformer.h[0].output[:, -1, :] = 0
        else:
            with model.edit() as edited:
                edited.transformer.h[0].output[:, -1, :] = 0
        with edited.trace(PROMPT):
            h0 = edited.transformer.h[0].output[:, -1, :].save()
            e1 = edited.lm_head.output.save()
        with model.trace(PROMPT):
            clean = model.lm_head.output.save()
        with edited.trace("Hello world"):
            e2 = edited.lm_head.output.save()
    return {"e1": e1, "h0": h0, "clean": clean, "e2": e2}
