"""25.12 names that were not saved are not returned"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"
NOT_FOR = {"0.5": "nnsight 0.5's local run pushes every local of the block back into the script (Tracer.push), while its remote run — NDIF's as this server's — returns the saved values only: the oracle and any server differ by design"}


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        kept = model.transformer.h[0].output.save()
        dropped = model.transformer.h[1].output
    return {"kept": kept, "dropped_is_defined": "dropped" in dir()}
