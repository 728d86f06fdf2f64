"""30.7 invoke inputs as token ids, tensors and dicts"""

import nnsight
import torch

NOT_FOR = {"0.7": "nnsight 0.7's local batcher (with transformers 5) gives a token-id tensor invoke an all-zero attention mask when it is batched with other invokes; localndif keeps the tensor's own all-ones mask"}
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    ids = torch.tensor([[464, 412, 318, 287]])
    with model.trace(remote=remote) as tracer:
        with tracer.invoke([10, 20, 30]):
            a = model.lm_head.output.save()
        with tracer.invoke(ids):
            b = model.lm_head.output.save()
        with tracer.invoke({"input_ids": torch.tensor([[5, 6]]), "attention_mask": torch.tensor([[1, 1]])}):
            c = model.lm_head.output.save()
        with tracer.invoke([[1, 2, 3], [4, 5]]):
            d = model.lm_head.output.save()
    return {"a": a, "b": b, "c": c, "d": d}
