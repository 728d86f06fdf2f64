"""48.2 first steps of any client version: a session of two traces, the second patching in a value the first read"""

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.session(remote=remote):
        with model.trace("Megan Rapinoe plays the sport of"):
            h = model.transformer.h[1].output[:, -1, :]
        with model.trace(PROMPT):
            model.transformer.h[1].output[:, -1, :] = h
            patched = model.lm_head.output.save()
    return {"patched": patched}
