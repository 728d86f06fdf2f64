"""32.12 a LanguageModel subclass from a library shipped by value: isinstance, type() and its own attributes on the model"""

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


def standardized(model, remote):
    """The case's model built again as the library's subclass, as the driver builds it
    (a user of nnterp writes `StandardizedTransformer(repo)`)."""
    repo = model.repo_id
    if not remote:
        return interp_lib.StandardizedLM(repo, dispatch=True)
    if nnsight.__version__.startswith(("0.5", "0.6", "0.7")):
        return interp_lib.StandardizedLM(repo)
    return interp_lib.StandardizedLM(repo, tokenizer=repo)


def run(model, remote):
    std_model = standardized(model, remote)
    with std_model.trace(PROMPT, remote=remote):
        checked = nnsight.save(interp_lib.check_model(std_model))
        described = nnsight.save(interp_lib.describe(std_model, interp_lib.ScaledProbe(2.0)))
        direct = nnsight.save([
            isinstance(std_model, interp_lib.StandardizedLM),
            type(std_model) is interp_lib.StandardizedLM,
            type(std_model).__name__,
            std_model.kind,
            len(std_model.layers),
        ])
        same = nnsight.save(std_model.transformer.h[0].output[0, 0, :4])
        h = nnsight.save(std_model.layer_output(1)[0, -1, :4])
    return {"checked": checked, "described": described, "direct": direct, "h": h, "same": same}
