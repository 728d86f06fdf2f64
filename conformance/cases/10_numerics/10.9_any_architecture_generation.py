"""10.9 any architecture: per-step last-block activations and an edit at one step of a generation, through envoys bound before the trace"""

import nnsight
from nnsight_case import blocks

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

SPEC = "semantics.md §1.6 Occurrences"


def run(model, remote):
    h = blocks(model)
    with model.generate("The Eiffel Tower is in the city of", max_new_tokens=3, remote=remote) as tracer:
        steps = nnsight.save([])
        for step in tracer.iter[0:3]:
            steps.append(h[-1].output[0, -1, :4])
            if step == 1:
                h[0].output[:] = h[0].output * 0.9
        ids = tracer.result.save()
    return {"steps": steps, "ids": ids}
