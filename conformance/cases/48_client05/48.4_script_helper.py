"""48.4 first steps of any client version: the trace calls a helper function defined at the script's top level"""

PROMPT = "The Eiffel Tower is in the city of"


def last_token_norm(hidden, scale):
    """A helper of the user's script: it travels with the request."""
    return hidden[:, -1, :].norm(dim=-1) * scale


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        norm = last_token_norm(model.transformer.h[1].output, 2.0).save()
    return {"norm": norm}
