"""7.1 an error in user code reaches the client with nnsight's text and the user's line"""

import traceback


def run(model, remote):
    try:
        with model.trace("The Eiffel Tower is in the city of", remote=remote):
            hidden = model.transformer.h[7].output.save()
    except Exception:
        text = traceback.format_exc()
        # nnsight 0.5's RemoteException adds a line of its own after the server's text.
        text = text.strip().removesuffix("\nRemote exception.")
        return {
            "raised": True,
            # local nnsight raises the error itself; remote, the client's RemoteError carries
            # the server's traceback text: both end in the same line
            "last_line": text.strip().splitlines()[-1],
            "names_the_line": "hidden = model.transformer.h[7].output.save()" in text,
        }
    return {"raised": False, "hidden": hidden}
