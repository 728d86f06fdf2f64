"""38.1 model.scan() in a session gives the shapes a trace would (nnsight runs it on fake tensors)"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.session(remote=remote):
        with model.scan(PROMPT):
            attn = nnsight.save(model.transformer.h[0].attn.output[0].shape)
            h0 = nnsight.save(model.transformer.h[0].output.shape)
            logits = nnsight.save(model.lm_head.output.shape)
            dtype = nnsight.save(str(model.lm_head.output.dtype))
    return {"h0": h0, "attn": attn, "logits": logits, "dtype": dtype}
