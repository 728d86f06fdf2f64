"""46.9 numpy and torch inside a trace: np.array(t.tolist()) -> torch.from_numpy round trip, torch.tensor(a), t.numpy()"""

import nnsight
import numpy as np
import torch

SPEC = "semantics.md §numpy"
PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output
        last = h[0, -1, :8]
        arr = np.array(last.tolist())
        norms = np.array([row.norm().item() for row in h[0]])
        back = nnsight.save(torch.from_numpy(arr))
        scaled = nnsight.save(torch.from_numpy(arr * 2).float())
        top = nnsight.save(int(np.argmax(norms)))
        as_tensor = nnsight.save(torch.tensor(np.array([1, 2, 3])))
        f64 = nnsight.save(torch.tensor(np.array([0.5, 1.5])))
        numpy_view = last.detach().clone().numpy()
        numpy_view[0] = 0.0
        viewed = nnsight.save([str(numpy_view.dtype), numpy_view.shape, type(numpy_view).__name__])
        from_tensor = nnsight.save(np.array(torch.arange(4)))
        shared = torch.zeros(3)
        npv = shared.numpy()
        npv[1] = 5.0
        shared_after = nnsight.save(shared)
        t2 = torch.from_numpy(np.zeros(2))
        t2[0] = 1.0
        mixed = nnsight.save(torch.ones(2) * np.float64(2.0))
        plus = nnsight.save(torch.ones(2) + np.array([1.0, 2.0]))
        h[:, -1, :8] = torch.from_numpy(arr).to(h.dtype) * 0
        logits = nnsight.save(model.lm_head.output)
    return {"back": back, "scaled": scaled, "top": top, "as_tensor": as_tensor, "f64": f64, "viewed": viewed,
            "from_tensor": from_tensor, "shared_after": shared_after, "mixed": mixed, "plus": plus, "logits": logits}
