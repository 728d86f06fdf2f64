"""10.4 swapping module outputs by assignment (a tensor, and a tuple element in place)"""


def run(model, remote):
    with model.trace("The Eiffel Tower is in the city of", remote=remote):
        attn = model.transformer.h[0].attn.output
        attn[0][:] = attn[0] * 0.5
        model.transformer.h[1].mlp.output = model.transformer.h[1].mlp.output * 2
        mlp = model.transformer.h[1].mlp.output.save()
        logits = model.lm_head.output.save()
    return {"mlp": mlp, "logits": logits}
