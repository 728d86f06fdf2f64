"""32.11 a user module registered to travel by value is used inside the trace"""

import importlib.util
import os
import sys

import cloudpickle
import nnsight

PROMPT = "The Eiffel Tower is in the city of"

_spec = importlib.util.spec_from_file_location("steer_lib", os.path.join(os.path.dirname(__file__), "lib", "steer_lib.py"))
steer_lib = importlib.util.module_from_spec(_spec)
sys.modules["steer_lib"] = steer_lib
_spec.loader.exec_module(steer_lib)
# nnsight 0.5 has no nnsight.register: its users call the cloudpickle function it wraps.
getattr(nnsight, "register", cloudpickle.register_pickle_by_value)(steer_lib)  # the server has no steer_lib: ship the module itself


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        scaled = nnsight.save(steer_lib.scale(model.transformer.h[0].output[0, -1, :4]))
        text = nnsight.save(steer_lib.describe())
        factor = nnsight.save(steer_lib.FACTOR)
    return {"scaled": scaled, "text": text, "factor": factor}
