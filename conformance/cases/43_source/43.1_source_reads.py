"""43.1 .source: the listing, and reading operations inside GPT-2 attention and MLP (split, attention, activation)"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

NOT_FOR = {"0.5": "nnsight 0.5 names calls only, as 0.7 does", "0.7": "nnsight 0.7 names calls only; this case reads assignments (shape_q_0, attn_output_2), 43.6 covers 0.7's names"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        attn = model.transformer.h[0].attn.source
        listing = nnsight.save(str(attn))
        q, k, v = attn.split_1.output
        q = q.save()
        v = v.save()
        shape = attn.shape_q_0.output.save()
        view_in = attn.query_states_view_0.inputs.save()
        scaling = nnsight.save(attn.attention_interface_1.inputs[1]["scaling"])
        a = attn.attention_interface_1.output[0].save()
        out = attn.attn_output_2.output.save()
        act = model.transformer.h[0].mlp.source.self_act_0.output.save()
        mlp = model.transformer.h[0].mlp.output.save()
    return {"listing": listing, "q": q, "v": v, "shape": shape, "view_in": view_in, "a": a,
            "scaling": scaling, "out": out, "act": act, "mlp": mlp}
