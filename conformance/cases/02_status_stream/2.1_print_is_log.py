"""2.1 print() inside a trace reaches the client as LOG statuses, one per line, in order"""

import contextlib
import io


def run(model, remote):
    logs = []
    if remote:
        # Record the LOG updates the client receives (its status display may be off):
        # 0.8 passes every update through RemoteBackend.note, 0.5-0.7 through
        # RemoteBackend.handle_response.
        from nnsight.intervention.backends.remote import RemoteBackend

        hook = "note" if hasattr(RemoteBackend, "note") else "handle_response"
        original = getattr(RemoteBackend, hook)

        def recording(self, response, *args, **kwargs):
            if response.status.value == "LOG":
                logs.append(response.description)
            return original(self, response, *args, **kwargs)

        setattr(RemoteBackend, hook, recording)
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
            setattr(RemoteBackend, hook, original)
    lines = logs if remote else out.getvalue().splitlines()
    return {"lines": lines, "last": last}
