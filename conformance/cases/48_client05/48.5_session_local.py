"""48.5 session.local() with a 0.5 client, no server flag: the block runs in the client's process with the session's values, its .remote() values go back and the session goes on with them"""

SERVER_ONLY = True
NOT_FOR = {"0.7": "released 0.7 clients crash on a STREAM: the server sends one only with --stream-local (42.1)", "0.8": "nnsight 0.8 has no session.local() (no STREAM)"}


def run(model):
    import torch

    with model.session(remote=True) as session:
        with model.trace("The Eiffel Tower"):
            h = model.transformer.h[0].output[0, -1, :4].save()
        with session.local():
            # Runs here, in the client's process, with h from the server.
            local = h * 3
            local.remote()
        total = local.sum().save()
        back = local.save()
    assert torch.equal(back, h * 3), (back, h)
    assert torch.allclose(total, (h * 3).sum()), (total, h)
