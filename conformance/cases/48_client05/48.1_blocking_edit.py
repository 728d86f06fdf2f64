"""48.1 first steps of any client version: a blocking trace of an edited copy (model.edit()) runs the edit, the base model stays clean"""

import nnsight

# Written for every client from nnsight 0.5.0 on (no nnsight.save, no tracer.result).
# 0.8 binds (tracer, edited); 0.5-0.7 bind the edited model alone.
NEW = not nnsight.__version__.startswith(("0.5", "0.6", "0.7"))
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    if NEW:
        with model.edit() as (tracer, edited):
            edited.transformer.h[0].output[:, -1, :] = 0
    else:
        with model.edit() as edited:
            edited.transformer.h[0].output[:, -1, :] = 0
    with edited.trace(PROMPT, remote=remote):
        h0 = edited.transformer.h[0].output.save()
        logits = edited.lm_head.output.save()
    with model.trace(PROMPT, remote=remote):
        clean = model.lm_head.output.save()
    return {"h0": h0, "logits": logits, "clean": clean}
