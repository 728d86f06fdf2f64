"""A helper library in the style of ndif-team's nnterp, shipped by value (the cases
`nnsight.register` it; the server has no such module): a subclass of nnsight's
LanguageModel and a plain class hierarchy that helpers check with `isinstance`, and
helpers under decorators — a `functools.wraps` one, `torch.no_grad()`, one returning a
bare closure — whose default arguments must survive the trip."""

import functools

import torch
from nnsight import LanguageModel

LAYERS = (0, 1)
WIDTH = 4


class StandardizedLM(LanguageModel):
    """A LanguageModel subclass, as nnterp's StandardizedTransformer is."""

    kind = "standardized"

    @property
    def layers(self):
        return self.transformer.h

    def layer_output(self, i):
        return self.transformer.h[i].output


class Probe:
    def __init__(self, weight):
        self.weight = weight

    def apply(self, h):
        return h * self.weight


class ScaledProbe(Probe):
    def apply(self, h):
        return super().apply(h) * 2


def check_model(model):
    """What a helper library asks of the model it is given."""
    if not isinstance(model, LanguageModel):
        raise TypeError(f"expected a LanguageModel, got {type(model).__name__}")
    return [isinstance(model, StandardizedLM), isinstance(model, LanguageModel)]


def describe(model, probe):
    return [
        isinstance(model, StandardizedLM),
        isinstance(model, LanguageModel),
        isinstance(probe, Probe),
        isinstance(probe, ScaledProbe),
        issubclass(ScaledProbe, Probe),
        issubclass(StandardizedLM, LanguageModel),
        type(probe) is ScaledProbe,
        type(probe).__name__,
        StandardizedLM.kind,
    ]


def logged(fn):
    """A user decorator: functools.wraps keeps the name, the call goes through."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


def passthrough(fn):
    """A decorator returning a bare closure (no functools.wraps)."""

    def inner(*args, **kwargs):
        return fn(*args, **kwargs)

    return inner


@logged
def token_activations(model, position=-1, layers=LAYERS, scale=1.0, *, width=4):
    return [model.transformer.h[i].output[0, position, :width] * scale for i in layers]


@torch.no_grad()
def final_norm_slice(model, position=-1, width=None):
    width = WIDTH if width is None else width
    return model.transformer.ln_f.output[0, position, :width]


@passthrough
def first_layer(model, position=0, width=3):
    return model.transformer.h[0].output[0, position, :width]


def iter_layers(model):
    """Never called in a trace: a generator the server cannot run must not stop the
    library from loading."""
    for block in model.transformer.h:
        yield block
