"""33.6 model.edit(inplace=True) edits the model itself until clear_edits(); edits stack and run before the trace's own code"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.session(remote=remote):
        with model.edit(inplace=True):
            model.transformer.h[1].mlp.output = model.transformer.h[1].mlp.output * 0.5
        with model.edit(inplace=True):
            model.transformer.ln_f.output[:, 0, :] = 1.0
        with model.trace(PROMPT):
            seen = model.transformer.ln_f.output[:, 0, :].save()
            edited = model.lm_head.output.save()
        model.clear_edits()
        with model.trace(PROMPT):
            clean = model.lm_head.output.save()
    return {"seen": seen, "edited": edited, "clean": clean}
