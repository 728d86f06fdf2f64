"""10.10 any architecture: two invokes of different lengths, one block edited in the first only, through envoys bound before the trace"""

from nnsight_case import blocks, embed

SPEC = "semantics.md §5 Batching"


def run(model, remote):
    h, wte = blocks(model), embed(model)
    with model.trace(remote=remote) as tracer:
        with tracer.invoke(["The Eiffel Tower is in", "Paris is"]):
            emb = wte.output.save()
            h[1].output[:, -1] = 0
            a = model.lm_head.output[:, -1].argmax(dim=-1).save()
        with tracer.invoke("The capital of France is"):
            b = h[1].output.save()
    return {"a": a, "emb": emb, "b": b}
