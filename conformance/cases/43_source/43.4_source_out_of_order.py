"""43.4 asking for an earlier operation after a later one is an out-of-order error naming the operation"""

import nnsight
import torch

NOT_FOR = {"0.7": "0.7 names a forward's operations by another scheme (calls only); localndif serves 0.8.1's names and refuses .source for 0.7 clients"}
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        attn = model.transformer.h[0].attn.source
        late = attn.attention_interface_1.output
        early = nnsight.save(attn.split_1.output)
    return {"early": early}
