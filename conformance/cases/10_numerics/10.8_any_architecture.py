"""10.8 any architecture: two blocks' outputs, the final norm's output, an edit of a block and the logits, through envoys bound before the trace"""

from nnsight_case import blocks, final_norm

SPEC = "semantics.md §2 Reading and writing values"


def run(model, remote):
    h, norm = blocks(model), final_norm(model)
    with model.trace("The Eiffel Tower is in the city of", remote=remote):
        first = h[0].output.save()
        h[1].output[:] = h[1].output * 0.5
        last = h[-1].output.save()
        normed = norm.output.save()
        logits = model.lm_head.output.save()
    return {"first": first, "last": last, "normed": normed, "logits": logits}
