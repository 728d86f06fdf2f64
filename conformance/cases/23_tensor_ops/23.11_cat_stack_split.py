"""23.11 cat, stack, split, chunk, unbind"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0]
        a = nnsight.save(torch.cat([h[:2], h[-2:]], dim=0))
        b = nnsight.save(torch.stack([h[0], h[1]], dim=1))
        parts = nnsight.save(list(h.split(3, dim=0)))
        chunks = nnsight.save(h.chunk(2, dim=-1))
        rows = nnsight.save(len(h.unbind(0)))
    return {"a": a, "b": b, "parts": parts, "chunks": chunks, "rows": rows}
