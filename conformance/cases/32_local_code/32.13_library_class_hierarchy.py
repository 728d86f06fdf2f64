"""32.13 classes from a library shipped by value are types: isinstance, issubclass and type() against them, LanguageModel and torch.Tensor"""

import importlib.util
import os
import sys

import cloudpickle
import nnsight
import torch
from nnsight import LanguageModel

PROMPT = "The Eiffel Tower is in the city of"

_spec = importlib.util.spec_from_file_location("interp_lib", os.path.join(os.path.dirname(__file__), "lib", "interp_lib.py"))
interp_lib = importlib.util.module_from_spec(_spec)
sys.modules["interp_lib"] = interp_lib
_spec.loader.exec_module(interp_lib)
# nnsight 0.5 has no nnsight.register: its users call the cloudpickle function it wraps.
getattr(nnsight, "register", cloudpickle.register_pickle_by_value)(interp_lib)  # the server has no interp_lib: ship the module itself


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        probe = interp_lib.ScaledProbe(0.5)
        h = model.transformer.h[0].output
        kinds = nnsight.save([
            isinstance(probe, interp_lib.Probe),
            isinstance(probe, interp_lib.ScaledProbe),
            issubclass(interp_lib.ScaledProbe, interp_lib.Probe),
            issubclass(interp_lib.Probe, interp_lib.ScaledProbe),
            type(probe) is interp_lib.ScaledProbe,
            type(probe).__name__,
            isinstance(model, LanguageModel),
            isinstance(model, nnsight.LanguageModel),
            isinstance(model, interp_lib.StandardizedLM),
            issubclass(interp_lib.StandardizedLM, LanguageModel),
            isinstance(h, torch.Tensor),
            isinstance(probe, (torch.Tensor, interp_lib.Probe)),
        ])
        checked = nnsight.save(interp_lib.check_model(model))
        applied = nnsight.save(interp_lib.Probe(0.5).apply(h[0, -1, :4]))
    return {"kinds": kinds, "checked": checked, "applied": applied}
