"""20.8 inheritance and super()"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        class Base:
            def __init__(self, n):
                self.n = n
            def describe(self):
                return f"base {self.n}"
        class Child(Base):
            def __init__(self, n, m):
                super().__init__(n)
                self.m = m
            def describe(self):
                return super().describe() + f" child {self.m}"
        c = Child(1, 2)
        a = nnsight.save([c.describe(), isinstance(c, Base), issubclass(Child, Base), c.n + c.m])
    return {"a": a}
