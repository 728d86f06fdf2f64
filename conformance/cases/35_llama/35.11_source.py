"""35.11 .source in a Llama: rotary embeddings, attention and the gated MLP, read and edited"""

import nnsight
import torch

MODEL = "llama"
PROMPT = "The Eiffel Tower is in the city of"

OLD = nnsight.__version__.startswith(("0.5", "0.7"))


def run(model, remote):
    shape = None
    with model.trace(PROMPT, remote=remote):
        attn = model.model.layers[0].self_attn.source
        listing = nnsight.save(str(attn))
        # 0.5 and 0.7 name calls only: no `hidden_shape_0`, and the attention call is its
        # `attention_interface_0` (0.8.1's `attention_interface_1`).
        if not OLD:
            shape = attn.hidden_shape_0.output.save()
        q, k = attn.apply_rotary_pos_emb_0.output
        q = q.save()
        a = getattr(attn, "attention_interface_0" if OLD else "attention_interface_1").output[0].save()
        mlp = model.model.layers[1].mlp.source
        act = mlp.self_act_fn_0.output.save()
        mlp.self_up_proj_0.output = mlp.self_up_proj_0.output * 0
        logits = model.lm_head.output.save()
    return {"listing": listing, "q": q, "shape": shape, "a": a, "act": act, "logits": logits}
