"""99.2 control: a case whose oracle raises although it declares no EXPECT_ERROR is broken, so it is INFO (never an error case a server passes by raising too)"""

import nnsight

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        # Out of order: the model has run past block 0 when it is asked for.
        late = model.lm_head.output.save()
        early = model.transformer.h[0].output.save()
    return {"late": late, "early": early}
