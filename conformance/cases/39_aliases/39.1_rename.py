"""39.1 a model built with rename= is intervened on through its aliases (LanguageModel(..., rename={...}))"""

import nnsight
import torch
from nnsight import LanguageModel

PROMPT = "The Eiffel Tower is in the city of"
RENAME = {"transformer.h": "layers", "mlp": "ffn", "transformer": "backbone"}


def run(model, remote):
    extra = {} if remote else {"dispatch": True}
    renamed = LanguageModel(model.repo_id, rename=RENAME, tokenizer=model.tokenizer, **extra)
    with renamed.trace(PROMPT, remote=remote):
        h0 = renamed.layers[0].output.save()
        ffn = renamed.layers[1].ffn.output.save()
        renamed.backbone.h[1].ffn.output[:, -1] = 0
        paths = nnsight.save([renamed.layers[0].path, renamed.layers[1].ffn.path])
        logits = renamed.lm_head.output.save()
    return {"h0": h0, "ffn": ffn, "paths": paths, "logits": logits}
