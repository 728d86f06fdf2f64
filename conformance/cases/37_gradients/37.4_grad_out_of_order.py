"""37.4 asking for gradients in forward order is nnsight's OutOfOrderError (0.7: MissedProviderError)"""

import re

import nnsight
import torch
from nnsight_case import RemoteError, server_text

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    try:
        with model.trace(PROMPT, remote=remote):
            h0 = model.transformer.h[0].output
            h1 = model.transformer.h[1].output
            logits = model.lm_head.output
            with logits.sum().backward():
                g0 = h0.grad.save()
                g1 = h1.grad.save()
    except Exception as e:  # noqa: BLE001 - compared below
        text = server_text(e).strip().splitlines()[-1]
        if not isinstance(e, RemoteError):
            text = f"{type(e).__name__}: {text}"
        # A remote traceback names the class with its module.
        text = re.sub(r"^[\w.]+\.(\w+Error)", r"\1", text)
        # The requester names the tensor by its id: different in every process.
        return {"error": re.sub(r"([`'])\d+\.grad", r"\1<id>.grad", text)}
    return {"error": "none"}
