"""23.34 argmax of the last position as a token id"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        logits = model.lm_head.output
        tok = nnsight.save(logits[0, -1].argmax(dim=-1))
        toks = nnsight.save(logits.argmax(-1)[0].tolist())
    return {"tok": tok, "toks": toks}
