"""41.1 eight clients submit ten jobs each at once: every job ends, each result is its solo run's, none crosses clients"""

import threading

import nnsight
import torch
from nnsight_case import RemoteError, server_text  # the client's remote-failure exception

SERVER_ONLY = True
# Its endless loops end at the step limit; at most this many steps keeps 160 jobs short
# (docs/conformance.md, "Server settings a case needs").
NEEDS = {"limits.max_steps": 5000000}
CLIENTS = 8
JOBS = 10
PROMPTS = ["The Eiffel Tower is in", "Hello world", "one two three four five", "A"]


def job(model, client, index):
    """One job of a mix: most compute, some fail in user code, some hit a limit."""
    marker = f"client {client} job {index}"
    kind = (client + index) % 5
    prompt = PROMPTS[(client * 3 + index) % len(PROMPTS)]
    try:
        with model.trace(prompt, remote=True):
            tag = nnsight.save(marker)
            if kind == 1:
                raise ValueError(f"failing on purpose: {marker}")
            if kind == 2:
                while True:
                    pass
            if kind == 3:
                huge = "a" * 10**11
            h = model.transformer.h[index % 2].output
            h[:, -1, :] *= 1 + client
            logits = model.lm_head.output.save()
        return ("ok", tag, logits)
    except RemoteError as e:
        return ("error", marker, server_text(e).strip().splitlines()[-1])


def run(model):
    pairs = [(c, i) for c in range(CLIENTS) for i in range(JOBS)]
    # Solo runs: one at a time.
    solo = {p: job(model, *p) for p in pairs}
    # The same jobs, eight clients at once.
    together = {}
    errors = []

    def client(c):
        try:
            for i in range(JOBS):
                together[(c, i)] = job(model, c, i)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"client {c}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert not any(t.is_alive() for t in threads), "a client never finished"
    assert not errors, errors
    assert set(together) == set(pairs), "missing jobs"
    for p in pairs:
        a, b = solo[p], together[p]
        assert a[0] == b[0], (p, a[0], b[0])
        assert a[1] == b[1] == f"client {p[0]} job {p[1]}", (p, a[1], b[1])
        if a[0] == "ok":
            assert torch.equal(a[2], b[2]), f"{p}: the result differs from the solo run"
        else:
            assert a[2] == b[2], (p, a[2], b[2])
    kinds = {together[p][0] for p in pairs}
    assert kinds == {"ok", "error"}, kinds
