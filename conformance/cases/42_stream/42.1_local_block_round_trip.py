"""42.1 with --stream-local, a session.local() block runs on the client with the session's values, its .remote() values come back and the session goes on with them"""

SERVER_ONLY = True
# What the server must advertise (GET /env) for this case to judge it (docs/conformance.md).
NEEDS = {"features.stream_local": True}
NOT_FOR = {"0.8": "nnsight 0.8 has no session.local() (no STREAM)"}


def run(model):
    import nnsight
    import torch
    from nnsight.intervention.envoy import Envoy

    # nnsight 0.6-0.7 answer a STREAM with load(data, model), which calls bool(model):
    # Envoy.__len__ raises TypeError for a transformers model. A client with that fixed:
    had = "__bool__" in Envoy.__dict__
    original = Envoy.__dict__.get("__bool__")
    Envoy.__bool__ = lambda self: True
    try:
        with model.session(remote=True) as session:
            with model.trace("The Eiffel Tower"):
                h = model.transformer.h[0].output[0, -1, :4]
            scale = 3
            with session.local():
                # Runs here, in the client's process, with h and scale from the server.
                local = h * scale
                local.remote()
                seen = nnsight.save(h)
            total = nnsight.save(local.sum())
            back = nnsight.save(local)
    finally:
        if had:
            Envoy.__bool__ = original
        else:
            del Envoy.__bool__
    assert torch.equal(back, seen * 3), (back, seen)
    assert torch.allclose(total, (seen * 3).sum()), (total, seen)
