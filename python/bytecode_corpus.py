"""Records CPython 3.11's answers for the bytecode evaluator's tests (`make fixtures`).

nnsight 0.5's clients ship the helper functions a traced block calls with cloudpickle, as
CPython code objects (server/src/interp/bytecode/). This script defines such helpers,
runs each on its arguments — CPython's result is the oracle — and pickles the helpers,
their arguments and the results with cloudpickle, as a client would ship them:

* fixtures/bytecode/corpus.pkl — `{"cases": [...], "codes": [...]}`: each case is
  `(name, function, args, kwargs, expected)` with `expected` one of `("ok", repr(result))`,
  `("raises", type name, message, [(function, line)...] of the helper frames it passed,
  innermost first)` or `("refused", what)`
  (code this server does not run: NotImplementedError naming the helper and `what`);
  `codes` has, for every case's function, each of its code objects (itself, then the
  ones in its constants, depth first) as `(qualname, co_lines(), exception table)`.
* fixtures/bytecode/py310.pkl — a helper whose code object is pickled with CPython
  3.10's 16 constructor arguments (no qualname, no exception table), which the server
  must refuse rather than run.

The Rust tests (server/src/interp/bytecode/tests.rs) load the pickles with the project's
pickle decoder and loader, call the helpers, and require CPython's answers. Run with the
pinned interpreter: `.venv/bin/python python/bytecode_corpus.py`.
"""

from __future__ import annotations

import dis
import math
import os
import sys
import traceback
import types

import cloudpickle
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "bytecode")

SCALE = 3


def arith(a, b):
    return (a + b) * 2 - a / b + a // b + a % b + a**2, -a, +b, ~a, a << 2, a >> 1, a & b, a | b, a ^ b, divmod(a, b)


def floats(x, y):
    return x / y, x // y, x % y, x**0.5, round(x * y, 3), abs(-x), min(x, y), max(x, y, 0.0)


def scale_tensor(x, k):
    return x * k + 1


def steer(h, v, alpha=0.5):
    h = h.clone()
    h[:, -1] += alpha * v
    return h.sum(dim=-1), h.shape, h[0, 1:3]


def defaults(a, b=2, *args, c, d=4, **kw):
    return (a, b, args, c, d, sorted(kw.items()))


def posonly(a, b, /, c=3):
    return a * 100 + b * 10 + c


def closures(n):
    def add(x):
        return x + n

    mul = lambda x: x * n  # noqa: E731
    return [add(i) for i in range(3)], list(map(mul, range(3))), sorted([3, 1, 2], key=lambda v: -v)


def make_counter(start=0):
    count = start

    def inc(by=1):
        nonlocal count
        count += by
        return count

    return inc


def counter_use():
    c = make_counter(10)
    c()
    c(by=5)
    return c()


def comprehensions(xs):
    return (
        [x * x for x in xs if x % 2],
        {x: x * 2 for x in xs},
        sorted({x % 3 for x in xs}),
        sum(x for x in xs),
        [(i, j) for i in range(3) for j in range(i)],
        any(x > 4 for x in xs),
        tuple(str(x) for x in xs),
    )


def loops(n):
    out = []
    i = 0
    while True:
        i += 1
        if i % 2 == 0:
            continue
        if i > n:
            break
        out.append(i)
    for j in range(10):
        if j == 3:
            break
    else:
        out.append(-1)
    for _k in range(2):
        pass
    else:
        out.append(-2)
    total = 0
    for a, b in zip(range(4), "abcd"):
        total += a
    for idx, ch in enumerate("xy"):
        out.append((idx, ch))
    return out, j, total


def nested(x):
    def outer(y):
        def inner(z):
            return x + y + z

        return inner

    return outer(1)(2)


def exceptions(x):
    log = []
    try:
        log.append(1 / x)
    except ZeroDivisionError as e:
        log.append(str(e))
    except (TypeError, ValueError):
        log.append("tv")
    else:
        log.append("else")
    finally:
        log.append("finally")
    try:
        try:
            raise KeyError("k")
        finally:
            log.append("inner finally")
    except KeyError as e:
        log.append(repr(e))
    try:
        [][1]
    except IndexError:
        log.append("idx")
    try:
        try:
            int("nope")
        except ValueError as e:
            raise RuntimeError("wrapped") from e
    except RuntimeError as e:
        log.append((str(e), type(e.__cause__).__name__))
    try:
        assert x != 0, "x is zero"
    except AssertionError as e:
        log.append(str(e))
    return log


def reraise(x):
    try:
        return 10 // x
    except ZeroDivisionError:
        raise


def fstrings(x, name):
    return f"{name}: {x:.3f} {x!r} {name!s:>8} {x:{'>10'}} {{}} {name=} {x:+.1e} {len(name):03d}"


def strings(s):
    return "-".join(s.split()), s.upper(), s.replace("a", "A"), s[::-1], "%s=%d" % (s[:2], len(s)), "{}/{}".format(1, s[0])


def unpacking(seq):
    a, b, *rest = seq
    *init, last = seq
    (p, q), r = (1, 2), 3
    first, *_ = seq
    return a, b, rest, init, last, p, q, r, [*seq, *rest], (*seq,), {**{"a": 1}, "b": 2}, {*seq}


def slicing(xs):
    ys = list(xs)
    ys[1:3] = [9, 9, 9]
    del ys[0]
    return xs[1:3], xs[::-1], xs[::2], xs[-2:], xs[:], xs[1:-1:2], ys


def chained(x):
    return 0 < x < 10, 0 <= x <= 5 < 7, x == 3 != 4, x is None, x is not None, x in [1, 2, 3], x not in (1,)


def calls_helpers(x):
    return arith(x, 2)[0] + posonly(1, 2) + nested(x) + fact(4)


def uses_math_torch(x):
    import math as m
    from torch import nn  # noqa: F401

    t = torch.arange(6.0).reshape(2, 3)
    return m.sqrt(x) + math.floor(2.7), torch.relu(t - 2).sum().item(), t.mean(dim=0), t[:, 1], math.pi


def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def raiser(x):
    if x > 0:
        raise ValueError(f"bad value {x}")
    return x


def calls_raiser(x):
    y = x + 1
    return raiser(y)


def bad_comp(xs):
    return [1 // x for x in xs]


def deep(n):
    return deep(n + 1)


def forever():
    while True:
        pass


def star_calls(*args, **kwargs):
    def f(a, b, c=0, **kw):
        return a + b + c + sum(kw.values())

    return f(*args, **kwargs), f(1, *args[:1], **{"c": 5}), f(*[1, 2]), f(1, 2, **{}, d=4)


def bools(x):
    return x and "yes" or "no", not x, "big" if x > 10 else "small", x or None, bool(x), x > 3 and x < 20


def containers(d):
    d = dict(d)
    d["z"] = 26
    del d["a"]
    s = set(d)
    s.add("q")
    s.discard("b")
    d.update(y=25)
    return sorted(d.items()), sorted(s), d.get("missing", 0), len(d), list(d.keys())[:2], d.pop("z")


def augmented(x):
    lst = [1]
    lst += [2]
    lst *= 2
    s = "a"
    s += "b"
    s *= 3
    n = x
    n += 1
    n -= 2
    n *= 3
    n //= 2
    n **= 2
    n %= 7
    n <<= 1
    n >>= 1
    n |= 8
    n &= 12
    n ^= 5
    f = float(x)
    f /= 4
    d = {"k": 1}
    d["k"] += 10
    return lst, s, n, f, d


def globals_and_defaults(x, scale=SCALE):
    return x * scale + SCALE


def big_numbers():
    return 2**100 + 1, -(10**30) // 7, 1 << 70, 12345678901234567890 % 97


COUNTER = 0


class Box:
    pass


def misc(x, obj):
    global COUNTER
    COUNTER = x
    y = COUNTER + 1
    del COUNTER
    try:
        COUNTER  # noqa: B018
    except NameError as e:
        gone = str(e)
    d = {"x": x, "y": y}
    obj.tmp = 1
    del obj.tmp
    out = []
    n = x
    while n:
        out.append(n)
        n -= 1
    node = 3
    while node is not None:
        out.append(node)
        node = None if node == 1 else node - 1
    if x is None:
        out.append("none")
    if x is not None:
        out.append("some")

    def cell():
        return z

    z = 5
    v = cell()
    del z
    try:
        cell()
    except NameError as e:
        out.append(str(e))

    def kw(a, *, k=3, **rest):
        return a * k + len(rest)

    return d, out, v, hasattr(obj, "tmp"), gone, kw(2), kw(2, k=4, q=1)


class Recorder:
    def __init__(self, log, suppress=False):
        self.log = log
        self.suppress = suppress

    def __enter__(self):
        self.log.append("enter")
        return self

    def __exit__(self, et, ev, tb):
        self.log.append(("exit", et.__name__ if et else None))
        return self.suppress


def with_statement():
    log = []
    with Recorder(log) as r:
        log.append(("body", r is not None))
    with Recorder(log, True):
        raise ValueError("x")
    try:
        with Recorder(log):
            raise KeyError("y")
    except KeyError:
        log.append("caught")
    return log


class Base:
    def __init__(self, x):
        self.x = x

    def value(self):
        return self.x


class Child(Base):
    def __init__(self, x, y):
        super().__init__(x)
        self.y = y

    def value(self):
        return super().value() * 10 + self.y


def classes(x):
    c = Child(x, 3)
    return c.value(), isinstance(c, Base), c.x


def recursion_closure(n):
    def walk(k):
        return 0 if k == 0 else k + walk(k - 1)

    return walk(n)


def matcher(x):
    match x:
        case [a, b]:
            return a + b
        case _:
            return "other"


def generator(n):
    yield from range(n)


async def coroutine():
    return 1


CASES = [
    ("arith", arith, (7, 3), {}),
    ("arith_neg", arith, (-7, 2), {}),
    ("floats", floats, (7.5, 2.0), {}),
    ("scale_tensor", scale_tensor, (torch.arange(4.0), 2.5), {}),
    ("steer", steer, (torch.arange(8.0).reshape(2, 4), torch.tensor([1.0, -1.0])), {"alpha": 2.0}),
    ("defaults", defaults, (1,), {"c": 3}),
    ("defaults_all", defaults, (1, 5, 6, 7), {"c": 3, "d": 8, "e": 9, "f": 10}),
    ("defaults_missing", defaults, (1,), {}),
    ("defaults_unexpected", posonly, (1, 2), {"z": 1}),
    ("posonly", posonly, (1, 2), {}),
    ("posonly_kw", posonly, (1, 2), {"c": 7}),
    ("posonly_as_kw", posonly, (1,), {"b": 2}),
    ("too_many", posonly, (1, 2, 3, 4), {}),
    ("closures", closures, (5,), {}),
    ("counter_use", counter_use, (), {}),
    ("comprehensions", comprehensions, ([1, 2, 3, 4, 5, 6],), {}),
    ("loops", loops, (7,), {}),
    ("nested", nested, (10,), {}),
    ("exceptions_zero", exceptions, (0,), {}),
    ("exceptions_one", exceptions, (1,), {}),
    ("exceptions_type", exceptions, ("s",), {}),
    ("reraise", reraise, (0,), {}),
    ("fstrings", fstrings, (3.14159, "pi"), {}),
    ("strings", strings, ("a banana bat",), {}),
    ("unpacking", unpacking, ([1, 2, 3, 4],), {}),
    ("unpacking_short", unpacking, ([1],), {}),
    ("slicing", slicing, ([0, 1, 2, 3, 4, 5],), {}),
    ("slicing_str", slicing, ("abcdef",), {}),
    ("chained", chained, (3,), {}),
    ("chained_none", chained, (None,), {}),
    ("calls_helpers", calls_helpers, (4,), {}),
    ("uses_math_torch", uses_math_torch, (16,), {}),
    ("fact", fact, (20,), {}),
    ("fib", fib, (90,), {}),
    ("raiser", raiser, (5,), {}),
    ("raiser_ok", raiser, (-5,), {}),
    ("calls_raiser", calls_raiser, (1,), {}),
    ("bad_comp", bad_comp, ([1, 0],), {}),
    ("deep", deep, (0,), {}),
    ("star_calls", star_calls, (1, 2), {"c": 3}),
    ("star_calls_dup", star_calls, (1, 2), {"a": 3}),
    ("bools", bools, (5,), {}),
    ("bools_zero", bools, (0,), {}),
    ("containers", containers, ({"a": 1, "b": 2, "c": 3},), {}),
    ("augmented", augmented, (13,), {}),
    ("globals_and_defaults", globals_and_defaults, (2,), {}),
    ("big_numbers", big_numbers, (), {}),
    ("with_statement", with_statement, (), {}),
    ("classes", classes, (4,), {}),
    ("recursion_closure", recursion_closure, (50,), {}),
    ("misc", misc, (3, Box()), {}),
    ("type_error", arith, ("a", 1), {}),
]

# Code this server refuses: CPython runs it; the server raises NotImplementedError
# naming the helper and what it does not run.
REFUSED = [
    ("matcher", matcher, (1,), {}, "MATCH_"),
    ("generator", generator, (3,), {}, "generator function"),
    ("coroutine", coroutine, (), {}, "coroutine"),
]


def expected(fn, args, kwargs):
    try:
        result = fn(*args, **kwargs)
    except BaseException as e:  # noqa: BLE001 - the oracle records whatever CPython raised
        # The helper frames the exception passed, innermost first, as (function, line);
        # none when the call itself failed (argument binding).
        frames = [(f.name, f.lineno) for f in traceback.extract_tb(e.__traceback__)[1:]]
        return ("raises", type(e).__name__, str(e), frames[::-1])
    return ("ok", repr(result))


def codes(code):
    """The code object and those in its constants, depth first, with their line and
    exception tables."""
    out = [(code.co_qualname, [list(x) for x in code.co_lines()], [list(x) for x in dis._parse_exception_table(code)])]
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out.extend(codes(c))
    return out


class Py310Pickler(cloudpickle.Pickler):
    """Pickles code objects with CPython 3.10's 16 constructor arguments."""

    def reducer_override(self, obj):
        if isinstance(obj, types.CodeType):
            c = obj
            return types.CodeType, (
                c.co_argcount, c.co_posonlyargcount, c.co_kwonlyargcount, c.co_nlocals, c.co_stacksize,
                c.co_flags, c.co_code, c.co_consts, c.co_names, c.co_varnames, c.co_filename, c.co_name,
                c.co_firstlineno, c.co_linetable, c.co_freevars, c.co_cellvars,
            )
        return super().reducer_override(obj)


def old_helper(x):
    return x + 1


def main():
    assert sys.version_info[:2] == (3, 11), "run with the pinned CPython 3.11 (.venv/bin/python)"
    sys.setrecursionlimit(1000)
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for name, fn, args, kwargs in CASES:
        cases.append((name, fn, args, kwargs, expected(fn, args, kwargs)))
    for name, fn, args, kwargs, what in REFUSED:
        cases.append((name, fn, args, kwargs, ("refused", what)))
    cases.append(("forever", forever, (), {}, ("loops",)))
    corpus = {"cases": cases, "codes": [(name, codes(fn.__code__)) for name, fn, *_ in cases]}
    with open(os.path.join(OUT, "corpus.pkl"), "wb") as f:
        cloudpickle.dump(corpus, f)
    with open(os.path.join(OUT, "py310.pkl"), "wb") as f:
        Py310Pickler(f).dump({"old_helper": old_helper})
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
