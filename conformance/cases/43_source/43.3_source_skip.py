"""43.3 skipping an operation: the MLP activation replaced by its input"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

NOT_FOR = {"0.5": "nnsight 0.5's operations have no .skip() and 0.5 names no assignment such as hidden_states_1", "0.7": "nnsight 0.7's operations have no .skip() and 0.7 names no assignment such as hidden_states_1"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        mlp = model.transformer.h[0].mlp.source
        pre = mlp.self_c_fc_0.output
        mlp.self_act_0.skip(pre)
        after = mlp.hidden_states_1.output.save()
        logits = model.lm_head.output.save()
    return {"after": after, "logits": logits}
