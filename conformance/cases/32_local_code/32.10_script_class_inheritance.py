"""32.10 script classes with inheritance, properties and class attributes"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"

class Base:
    kind = "base"

    def describe(self):
        return f"{type(self).__name__}({self.value})"


class Scaled(Base):
    kind = "scaled"

    def __init__(self, value):
        self.value = value

    @property
    def double(self):
        return self.value * 2

    def apply(self, h):
        return h * self.value


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        s = Scaled(3.0)
        a = nnsight.save([s.value, s.double, Scaled.kind, s.describe(), isinstance(s, Base)])
        h = nnsight.save(s.apply(model.transformer.h[0].output[0, 0, :4]))
    return {"a": a, "h": h}
