"""31.8 model.config reads"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        cfg = model.config
        a = nnsight.save([cfg.n_embd, cfg.n_layer, cfg.vocab_size, cfg.model_type, cfg.hidden_size, cfg.num_hidden_layers])
    return {"a": a}
