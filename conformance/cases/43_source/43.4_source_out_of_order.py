"""43.4 asking for an earlier operation after a later one is an out-of-order error naming the operation"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

# The attention call: 0.5 and 0.7 number calls only (`attention_interface_0`).
ATTN = "attention_interface_0" if nnsight.__version__.startswith(("0.5", "0.7")) else "attention_interface_1"
EXPECT_ERROR = {"0.5": "OutOfOrderError", "0.7": "MissedProviderError", "0.8": "OutOfOrderError"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        attn = model.transformer.h[0].attn.source
        late = getattr(attn, ATTN).output
        early = nnsight.save(attn.split_1.output)
    return {"early": early}
