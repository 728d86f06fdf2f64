"""10.2 a batch of two prompts of different lengths (left padding, mask-derived positions)"""


def run(model, remote):
    with model.trace(["The Eiffel Tower is in the city of", "Hello world"], remote=remote):
        hidden = model.transformer.h[1].output.save()
        logits = model.lm_head.output.save()
    return {"hidden": hidden, "logits": logits}
