"""10.1 save a decoder block output and the LM-head logits"""


def run(model, remote):
    with model.trace("The Eiffel Tower is in the city of", remote=remote):
        hidden = model.transformer.h[0].output.save()
        logits = model.lm_head.output.save()
    return {"hidden": hidden, "logits": logits}
