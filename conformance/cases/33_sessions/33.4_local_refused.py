"""33.4 session.local() ends the job with an error that says why (released nnsight 0.6-0.7 clients crash on a STREAM), instead of crashing the client"""

SERVER_ONLY = True
# What the server must advertise (GET /env) for this case to judge it (docs/conformance.md).
NEEDS = {"features.stream_local": False}
NOT_FOR = {"0.5": "nnsight 0.5 runs a STREAM's block (it loads it without bool(model)), so the server streams session.local() to it without a flag: 48.5", "0.8": "nnsight 0.8 has no session.local() (no STREAM)"}


def run(model):
    from nnsight_case import RemoteError

    try:
        with model.session(remote=True) as session:
            with model.trace("The Eiffel Tower"):
                h = model.transformer.h[0].output[0, -1, :4]
            with session.local():
                doubled = h * 2
    except RemoteError as e:
        text = str(e)
        assert "session.local()" in text and "--stream-local" in text, text
        return
    raise AssertionError("the session completed")
