"""35.11 .source in a Llama: rotary embeddings, attention and the gated MLP, read and edited"""

import nnsight
import torch

MODEL = "llama"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        attn = model.model.layers[0].self_attn.source
        listing = nnsight.save(str(attn))
        q, k = attn.apply_rotary_pos_emb_0.output
        q = q.save()
        shape = attn.hidden_shape_0.output.save()
        a = attn.attention_interface_1.output[0].save()
        mlp = model.model.layers[1].mlp.source
        act = mlp.self_act_fn_0.output.save()
        mlp.self_up_proj_0.output = mlp.self_up_proj_0.output * 0
        logits = model.lm_head.output.save()
    return {"listing": listing, "q": q, "shape": shape, "a": a, "act": act, "logits": logits}
