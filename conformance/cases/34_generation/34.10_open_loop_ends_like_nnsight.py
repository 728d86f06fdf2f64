"""34.10 an open tracer.iter[:] loop keeps its saves; code after it does not run"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
EXPECT_ERROR = "ValueError"


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        with tracer.invoke():
            hs = nnsight.save([])
            for step in tracer.iter[:]:
                hs.append(model.transformer.h[-1].output[0, -1, :4])
            after = nnsight.save("after the loop")
        with tracer.invoke():
            ids = tracer.result.save()
    return {"hs": hs, "ids": ids, "after_ran": "after" in dir()}
