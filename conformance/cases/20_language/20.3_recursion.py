"""20.3 recursive functions"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        def fact(n):
            return 1 if n <= 1 else n * fact(n - 1)
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        a = nnsight.save([fact(25), fib(15)])
    return {"a": a}
