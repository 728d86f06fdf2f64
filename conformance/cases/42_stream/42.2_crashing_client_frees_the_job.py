"""42.2 with --stream-local, a released 0.7 client that crashes on the STREAM does not wedge the server: its job ends as soon as the socket closes, and the next job runs"""

SERVER_ONLY = True
# What the server must advertise (GET /env) for this case to judge it (docs/conformance.md).
NEEDS = {"features.stream_local": True}
NOT_FOR = {"0.5": "nnsight 0.5 does not crash on a STREAM: it runs the block (42.1, 48.5)", "0.8": "nnsight 0.8 has no session.local() (no STREAM)"}


def run(model):
    import json
    import time
    import urllib.request

    from nnsight import CONFIG

    session = None
    try:
        with model.session(remote=True) as session:
            with model.trace("The Eiffel Tower"):
                h = model.transformer.h[0].output[0, -1, :4]
            with session.local():
                doubled = h * 2
    except TypeError as e:
        # The released client's own failure (bool(model) in its STREAM handler).
        assert "len()" in str(e), e
    else:
        raise AssertionError("the released client handled a STREAM; 42.1's workaround is no longer needed")
    # The job ends because the client's socket closed, not because the upload wait ran out.
    job = session.backend.job_id
    deadline = time.monotonic() + 100
    while True:
        with urllib.request.urlopen(f"{CONFIG.API.HOST}/response/{job}") as r:
            status = json.load(r)
        if status["status"] == "ERROR":
            break
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert "disconnected" in status["description"], status
    # The next job runs.
    with model.trace("The Eiffel Tower", remote=True):
        out = model.lm_head.output.save()
    assert out.ndim == 3
