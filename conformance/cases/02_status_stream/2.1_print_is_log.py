"""2.1 print() inside a trace reaches the client as LOG statuses, one per line, in order"""

import contextlib
import io


def run(model, remote):
    logs = []
    if remote:
        # Record the LOG updates the client receives (its status display may be off).
        from nnsight.intervention.backends.remote import RemoteBackend

        note = RemoteBackend.note

        def recording(self, response):
            if response.status.value == "LOG":
                logs.append(response.description)
            return note(self, response)

        RemoteBackend.note = recording
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            with model.trace("The Eiffel Tower is in the city of", remote=remote):
                hidden = model.transformer.h[0].output
                print("width", hidden.shape[-1])
                print("done")
                last = hidden[0, -1, 0].save()
    finally:
        if remote:
            RemoteBackend.note = note
    lines = logs if remote else out.getvalue().splitlines()
    return {"lines": lines, "last": last}
