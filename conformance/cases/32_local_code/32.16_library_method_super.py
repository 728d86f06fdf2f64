"""32.16 a method of a class from a library shipped by value calls zero-argument super()"""

import importlib.util
import os
import sys

import cloudpickle
import nnsight

PROMPT = "The Eiffel Tower is in the city of"

_spec = importlib.util.spec_from_file_location("interp_lib", os.path.join(os.path.dirname(__file__), "lib", "interp_lib.py"))
interp_lib = importlib.util.module_from_spec(_spec)
sys.modules["interp_lib"] = interp_lib
_spec.loader.exec_module(interp_lib)
# nnsight 0.5 has no nnsight.register: its users call the cloudpickle function it wraps.
getattr(nnsight, "register", cloudpickle.register_pickle_by_value)(interp_lib)  # the server has no interp_lib: ship the module itself


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        h = model.transformer.h[0].output[0, -1, :4]
        # ScaledProbe.apply is `super().apply(h) * 2`
        scaled = nnsight.save(interp_lib.ScaledProbe(0.5).apply(h))
        plain = nnsight.save(interp_lib.Probe(0.5).apply(h))
    return {"scaled": scaled, "plain": plain}
