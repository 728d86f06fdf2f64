"""43.4 asking for an earlier operation after a later one is an out-of-order error naming the operation"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        attn = model.transformer.h[0].attn.source
        late = attn.attention_interface_1.output
        early = nnsight.save(attn.split_1.output)
    return {"early": early}
