"""20.14 f-strings with format specs, conversions and nested fields"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        x, name, width = 3.14159, "tower", 8
        a = nnsight.save([f"{x:.2f}", f"{x:>10.3f}|", f"{name!r}", f"{name:^{width}}", f"{42:08b}", f"{1234567:,}",
                          f"{0.5:%}", f"{x=}", f"{{literal}}", f"{name.upper()}{len(name)}", f"{-7:+d}", f"{255:#x}"])
    return {"a": a}
