"""47.3 random in a trace: a seeded job draws exactly the numbers a local run draws (CPython's Mersenne Twister and algorithms)"""

import random

import nnsight

PROMPT = "The Eiffel Tower is in the city of"
SPEC = "semantics.md §1.3 Three kinds of body"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        n = model.transformer.h[0].output.shape[-1]
        random.seed(1234)
        a = [random.random() for _ in range(3)]
        b = [random.randint(0, n) for _ in range(5)]
        items = list(range(10))
        random.shuffle(items)
        c = random.choice(items)
        d = random.sample(range(1000), 8)
        e = random.sample(items, 4)
        f = [random.uniform(-1, 1), random.gauss(0, 1), random.gauss(0, 1), random.normalvariate(2, 3)]
        g = random.choices(["x", "y", "z"], weights=[1, 2, 3], k=5)
        h = [random.getrandbits(70), random.randrange(10, 100, 7), random.getrandbits(5)]
        rng = random.Random(2**40 + 7)
        i = [rng.random(), rng.randint(1, 6)]
        random.seed(-5)
        j = random.random()
        out = nnsight.save([a, b, items, c, d, e, f, g, h, i, j])
    return {"out": out}
