"""21.13 dict methods"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        d = {"b": 1, "a": 2}
        d.setdefault("c", 3); d.setdefault("a", 99)
        d.update({"d": 4}, e=5)
        got = [d.get("a"), d.get("zz"), d.get("zz", 0), d.pop("b"), d.pop("zz", "none")]
        last = d.popitem()
        a = nnsight.save([d, got, last, list(d.keys()), list(d.values()), list(d.items()), "a" in d, len(d),
                          dict.fromkeys("xy", 0), {**d, "a": 0}])
    return {"a": a}
