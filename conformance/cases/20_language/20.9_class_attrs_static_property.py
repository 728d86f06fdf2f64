"""20.9 class attributes, staticmethod, classmethod and property"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        class Shape:
            sides = 0
            def __init__(self, size):
                self._size = size
            @property
            def size(self):
                return self._size * 2
            @staticmethod
            def unit():
                return 1
            @classmethod
            def make(cls, size):
                return cls(size)
        class Square(Shape):
            sides = 4
        s = Square.make(3)
        a = nnsight.save([s.size, s.sides, Shape.sides, Shape.unit(), type(s).__name__])
    return {"a": a}
