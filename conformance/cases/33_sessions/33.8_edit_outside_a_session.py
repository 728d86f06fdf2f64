"""33.8 model.edit() outside a session: the edited copy's traces run the edit, the base model's do not; stacked edits, in-place edits and clear_edits()"""

import nnsight

# 0.8.1 binds (tracer, edited); 0.5 and 0.7 bind the edited model alone.
NEW = not nnsight.__version__.startswith(("0.5", "0.7"))
PROMPT = "The Eiffel Tower is in the city of"
SPEC = "semantics.md §7.11 model.edit()"




def run(model, remote):
    if NEW:
        with model.edit() as (tracer, edited):
            edited.transformer.h[0].output[:] = 0
    else:
        with model.edit() as edited:
            edited.transformer.h[0].output[:] = 0
    with edited.trace(PROMPT, remote=remote):
        out = edited.transformer.h[0].output.save()
        logits = edited.output.logits.save()
    second = None
    with edited.trace(remote=remote) as tracer:
        with tracer.invoke(PROMPT):
            invoked = edited.transformer.h[0].output.save()
        if NEW:
            # nnsight 0.7 hands this invoke the whole batch's logits when an edit is
            # stored (its edit mediator takes a batch group); 0.8 narrows it to the row.
            with tracer.invoke("Hello world"):
                second = edited.output.logits.save()
    with model.trace(PROMPT, remote=remote):
        base = model.transformer.h[0].output.save()
        clean = model.output.logits.save()
    # A second edit on the edited copy stacks on the first.
    if NEW:
        with edited.edit() as (tracer, twice):
            twice.transformer.h[1].mlp.output = twice.transformer.h[1].mlp.output * 0.5
    else:
        with edited.edit() as twice:
            twice.transformer.h[1].mlp.output = twice.transformer.h[1].mlp.output * 0.5
    with twice.trace(PROMPT, remote=remote):
        stacked_h0 = twice.transformer.h[0].output.save()
        stacked = twice.output.logits.save()
    # In place: the model itself carries the edit until clear_edits().
    with model.edit(inplace=True):
        model.transformer.ln_f.output[:, 0, :] = 1.0
    with model.trace(PROMPT, remote=remote):
        seen = model.transformer.ln_f.output[:, 0, :].save()
        inplace = model.output.logits.save()
    model.clear_edits()
    with model.trace(PROMPT, remote=remote):
        cleared = model.output.logits.save()
    return {
        "out": out, "logits": logits, "invoked": invoked, "second": second, "base": base, "clean": clean,
        "stacked_h0": stacked_h0, "stacked": stacked,
        "seen": seen, "inplace": inplace, "cleared": cleared,
    }
