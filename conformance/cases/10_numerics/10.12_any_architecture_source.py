"""10.12 any architecture: .source of a block's MLP — its listing, one call's output read and a later call's output edited"""

import nnsight
from nnsight_case import blocks

SPEC = "semantics.md §7.3 `.source`"
NOT_FOR = {"0.5": "nnsight 0.5's .source leaves the operation envoys on the client's model for the rest of the process, so every later tracer.cache() in the same client session records them too (4 more keys than a fresh run gives): the oracle of the cases after it would be wrong. 43.2 and 43.4 cover .source with 0.5"}
PROMPT = "The Eiffel Tower is in the city of"

# (read, then edit) calls of each family's MLP forward, in execution order; the gated MLPs
# (Llama, Qwen, Gemma) otherwise.
OPS = {
    "GPT2MLP": ("self_c_fc_0", "self_act_0"),
    "GPTNeoXMLP": ("self_dense_h_to_4h_0", "self_act_0"),
    "GPTJMLP": ("self_fc_in_0", "self_act_0"),
    "Phi3MLP": ("self_gate_up_proj_0", "self_activation_fn_0"),
}
GATED = ("self_act_fn_0", "self_up_proj_0")


def run(model, remote):
    mlp = blocks(model)[1].mlp
    read, edit = OPS.get(type(mlp._module).__name__, GATED)
    with model.trace(PROMPT, remote=remote):
        src = mlp.source
        listing = nnsight.save(str(src))
        proj = getattr(src, read).output.save()
        e = getattr(src, edit)
        e.output = e.output * 0.5
        logits = model.lm_head.output.save()
    return {"listing": listing, "proj": proj, "logits": logits}
