"""99.3 control: a case that declares EXPECT_ERROR but whose oracle returns values is broken, so it is INFO"""

import nnsight

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "ValueError"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output.save()
    return {"h": h}
