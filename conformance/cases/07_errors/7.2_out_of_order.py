"""7.2 asking for a module the forward already passed is nnsight's OutOfOrderError"""

import traceback


def run(model, remote):
    try:
        with model.trace("The Eiffel Tower is in the city of", remote=remote):
            late = model.transformer.h[1].output.save()
            early = model.transformer.h[0].output.save()
    except Exception:
        text = traceback.format_exc()
        # nnsight 0.5's RemoteException adds a line of its own after the server's text.
        text = text.strip().removesuffix("\nRemote exception.")
        return {
            "raised": True,
            "last_line": text.strip().splitlines()[-1],
            "names_the_line": "early = model.transformer.h[0].output.save()" in text,
        }
    return {"raised": False}
