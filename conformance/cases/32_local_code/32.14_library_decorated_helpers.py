"""32.14 helpers under decorators from a library shipped by value keep their defaults: a functools.wraps decorator and one returning a bare closure"""

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
        # In the order the model runs: block 0, then block 1.
        closure = nnsight.save(interp_lib.first_layer(model))
        closure_given = nnsight.save(interp_lib.first_layer(model, -1, width=2))
        defaults = nnsight.save(interp_lib.token_activations(model))
        given = nnsight.save(interp_lib.token_activations(model, 0, layers=(1,), scale=0.5, width=2))
        name = nnsight.save(interp_lib.token_activations.__name__)
    return {"defaults": defaults, "given": given, "name": name, "closure": closure, "closure_given": closure_given}
