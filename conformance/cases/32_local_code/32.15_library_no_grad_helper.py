"""32.15 a torch.no_grad()-decorated helper from a library shipped by value keeps its defaults"""

import importlib.util
import os
import sys

import cloudpickle
import nnsight

# GPT-2 only: the helpers read model.transformer (lib/interp_lib.py).
PROMPT = "The Eiffel Tower is in the city of"

_spec = importlib.util.spec_from_file_location("interp_lib", os.path.join(os.path.dirname(__file__), "lib", "interp_lib.py"))
interp_lib = importlib.util.module_from_spec(_spec)
sys.modules["interp_lib"] = interp_lib
_spec.loader.exec_module(interp_lib)
# nnsight 0.5 has no nnsight.register: its users call the cloudpickle function it wraps.
getattr(nnsight, "register", cloudpickle.register_pickle_by_value)(interp_lib)  # the server has no interp_lib: ship the module itself


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        defaults = nnsight.save(interp_lib.final_norm_slice(model))
        given = nnsight.save(interp_lib.final_norm_slice(model, 0, width=2))
        name = nnsight.save(interp_lib.final_norm_slice.__name__)
    return {"defaults": defaults, "given": given, "name": name}
