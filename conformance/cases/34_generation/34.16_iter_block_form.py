"""34.16 the block form of iteration: `with tracer.iter[...]:` (with and without `as`) and `with tracer.all():` re-run the block once per step"""

import nnsight

PROMPT = "The Eiffel Tower is in the city of"
OLD = nnsight.__version__.startswith(("0.5", "0.7"))


def run(model, remote):
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        hidden = nnsight.save([])
        with tracer.iter[1:3]:
            hidden.append(model.transformer.h[-1].output)
        ids = tracer.result.save()
    with model.generate(PROMPT, max_new_tokens=4, remote=remote) as tracer:
        logits = nnsight.save([])
        steps = nnsight.save([])
        with tracer.iter[[0, 2]] as step:
            logits.append(model.lm_head.output)
            # 0.5 and 0.7 bind the step; 0.8.1 binds the selection (a Tracer).
            steps.append(step if OLD else len(steps))
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        edited = nnsight.save([])
        with tracer.all():
            model.transformer.h[0].mlp.output[:] = model.transformer.h[0].mlp.output * 0.5
            edited.append(model.lm_head.output)
    return {"hidden": hidden, "ids": ids, "logits": logits, "steps": steps, "edited": edited}
