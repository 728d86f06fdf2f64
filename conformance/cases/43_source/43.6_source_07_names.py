"""43.6 .source under the names both clients give calls: reading, editing and generation steps of GPT-2 attention and MLP calls"""

import nnsight

PROMPT = "The Eiffel Tower is in the city of"
# The attention call: 0.8.1 also numbers assignments, 0.5 and 0.7 calls only.
OLD = nnsight.__version__.startswith(("0.5", "0.7"))
ATTN = "attention_interface_0" if OLD else "attention_interface_1"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        attn = model.transformer.h[0].attn.source
        listing = nnsight.save(str(attn))
        q, k, v = attn.split_1.output
        q = q.save()
        a = getattr(attn, ATTN).output[0].save()
        proj_in = attn.self_c_proj_0.input.save()
        mlp = model.transformer.h[1].mlp.source
        act = mlp.self_act_0.output.save()
        mlp.self_c_proj_0.output[:] = mlp.self_c_proj_0.output * 0.5
        logits = model.lm_head.output.save()
    with model.generate(PROMPT, max_new_tokens=3, remote=remote) as tracer:
        steps = nnsight.save([])
        # The block form of iteration: every client's (0.5 has no `for` form).
        with tracer.iter[:3]:
            steps.append(getattr(model.transformer.h[1].attn.source, ATTN).output[0])
    return {"listing": listing, "q": q, "a": a, "proj_in": proj_in, "act": act, "logits": logits, "steps": steps}
