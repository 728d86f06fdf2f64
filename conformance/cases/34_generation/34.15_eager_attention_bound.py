"""34.15 generation over 5 steps against a local run with eager attention: the server runs sdpa, so the values agree within the documented bound, not bit for bit"""

import contextlib

import nnsight
from nnsight_case import blocks

NOT_FOR = {"0.5": "nnsight 0.5 has no `for step in tracer.iter[...]` (its local run raises WithBlockNotFoundError): it iterates with the block form `with tracer.iter[...] as step:`, which 34.16 covers"}

PROMPT = "The Eiffel Tower is in the city of"
SPEC = "README.md §Reproducing a result exactly"
# Eager attention (matmul, softmax, matmul) and sdpa sum in different orders: on float32
# the logits of the fixtures differ by a few 1e-6 (README, "Reproducing a result
# exactly"), and the difference grows with depth (2.3e-5 on a 12-layer GPT-2 of width
# 64), so the bound is 1e-4 relative and absolute. The token ids must still be equal.
TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}


@contextlib.contextmanager
def eager(model, on):
    """The local model with transformers' eager attention for the duration (a remote
    model is the server's: it stays sdpa)."""
    inner = getattr(model, "_module", None)
    if not on or inner is None:
        yield
        return
    before = inner.config._attn_implementation
    inner.set_attn_implementation("eager")
    try:
        yield
    finally:
        inner.set_attn_implementation(before)


def run(model, remote):
    h = blocks(model)
    with eager(model, not remote):
        with model.generate(PROMPT, max_new_tokens=5, remote=remote) as tracer:
            hidden = nnsight.save([])
            logits = nnsight.save([])
            for step in tracer.iter[:5]:
                hidden.append(h[-1].output)
                logits.append(model.lm_head.output)
            ids = tracer.result.save()
    return {"hidden": hidden, "logits": logits, "ids": ids}
