"""4.1 a non-blocking job is submitted over HTTP, polled until COMPLETED, then downloaded"""


def run(model, remote):
    if not remote:
        # The oracle: the same block, run locally.
        with model.trace("The Eiffel Tower is in the city of"):
            logits = model.lm_head.output.save()
        return {"logits": logits}
    import time

    with model.trace("The Eiffel Tower is in the city of", remote=True, blocking=False) as tracer:
        logits = model.lm_head.output.save()
    backend = tracer.backend
    deadline = time.monotonic() + 120
    result = None
    while result is None:
        assert time.monotonic() < deadline, "the job did not complete"
        result = backend()
        time.sleep(0.05)
    return {"logits": result["logits"]}
