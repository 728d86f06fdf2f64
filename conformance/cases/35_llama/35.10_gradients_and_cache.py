"""35.10 gradients through a Llama (RMSNorm, RoPE, GQA) and a cache of its decoder layers"""

import nnsight
import torch

MODEL = "llama"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote) as tracer:
        cache = tracer.cache(modules=[layer for layer in model.model.layers])
        h0 = model.model.layers[0].output
        attn1 = model.model.layers[1].self_attn.output[0]
        loss = model.lm_head.output[0, -1].log_softmax(-1).max()
        with loss.backward():
            g_attn = attn1.grad.save()
            attn1.grad = attn1.grad * 0.5
            g0 = h0.grad.save()
    return {
        "g_attn": g_attn,
        "g0": g0,
        "layers": [cache[f"model.model.layers.{i}"].output for i in range(len(cache.keys()))],
    }
