"""4.2 a non-blocking job with ndif-callback: the callback URL gets GET ?status=…&id=… for every update, COMPLETED last"""

import http.server
import threading
import time
import urllib.parse

SERVER_ONLY = True
NOT_FOR = {"0.8": "nnsight 0.8 removed callbacks (RemoteBackend has no callback=)"}


def run(model):
    from nnsight.intervention.backends.remote import RemoteBackend

    seen = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            seen.append((query.get("status", [""])[0], query.get("id", [""])[0]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    listener = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{listener.server_address[1]}/hook"
        backend = RemoteBackend(model.to_model_key(), blocking=False, callback=url)
        with model.trace("The Eiffel Tower is in the city of", backend=backend):
            print("from the job")
            logits = model.lm_head.output.save()
        job = backend.job_id
        deadline = time.monotonic() + 60
        result = None
        while result is None:
            assert time.monotonic() < deadline, "the job did not complete"
            result = backend()
            time.sleep(0.05)
        assert result["logits"].ndim == 3, result.keys()
        # The callback of the last update can trail the poll that saw COMPLETED.
        while not any(s == "COMPLETED" for s, _ in seen):
            assert time.monotonic() < deadline, f"no COMPLETED callback: {seen}"
            time.sleep(0.05)
    finally:
        listener.shutdown()
    statuses = [s for s, _ in seen]
    assert all(i == job for _, i in seen), seen
    assert statuses == ["QUEUED", "DISPATCHED", "RUNNING", "LOG", "COMPLETED"], statuses
