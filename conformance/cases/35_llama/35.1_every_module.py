"""35.1 every module's inputs and outputs, in event order"""

import nnsight
import torch

MODEL = "llama"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        out = nnsight.save({})
        out["embed"] = model.model.embed_tokens.output
        out["rotary"] = model.model.rotary_emb.output
        for i, layer in enumerate(model.model.layers):
            out[f"{i}.inputs"] = layer.inputs
            out[f"{i}.ln1"] = layer.input_layernorm.output
            out[f"{i}.attn_in"] = layer.self_attn.input
            out[f"{i}.q"] = layer.self_attn.q_proj.output
            out[f"{i}.k"] = layer.self_attn.k_proj.output
            out[f"{i}.v"] = layer.self_attn.v_proj.output
            out[f"{i}.o"] = layer.self_attn.o_proj.output
            out[f"{i}.attn"] = layer.self_attn.output
            out[f"{i}.ln2"] = layer.post_attention_layernorm.output
            out[f"{i}.gate"] = layer.mlp.gate_proj.output
            out[f"{i}.act"] = layer.mlp.act_fn.output
            out[f"{i}.up"] = layer.mlp.up_proj.output
            out[f"{i}.down"] = layer.mlp.down_proj.output
            out[f"{i}.mlp"] = layer.mlp.output
            out[f"{i}.out"] = layer.output
        out["norm"] = model.model.norm.output
        out["model"] = model.model.output
        out["head"] = model.lm_head.output
        out["root"] = model.output
    return {"out": out}
