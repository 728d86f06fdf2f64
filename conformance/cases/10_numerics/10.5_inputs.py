"""10.5 reading .input and .inputs (positional and keyword arguments of module calls)"""


def run(model, remote):
    with model.trace("The Eiffel Tower is in the city of", remote=remote):
        args, kwargs = model.inputs
        ids = kwargs["input_ids"].save()
        mask = kwargs["attention_mask"].save()
        block_in = model.transformer.h[1].input.save()
        ln_args = model.transformer.ln_f.inputs[0]
        ln_in = ln_args[0].save()
    return {"ids": ids, "mask": mask, "block_in": block_in, "ln_in": ln_in}
