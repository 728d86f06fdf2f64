"""10.3 an in-place edit of a block's output changes everything downstream"""


def run(model, remote):
    with model.trace("The Eiffel Tower is in the city of", remote=remote):
        before = model.transformer.h[0].output[:, -1, :].clone().save()
        model.transformer.h[0].output[:, -1, :] = 0
        after = model.transformer.h[0].output.save()
        logits = model.lm_head.output.save()
    return {"before": before, "after": after, "logits": logits}
