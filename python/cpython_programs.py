"""Small programs whose output CPython records for the interpreter's tests
(python/cpython_corpus.py writes fixtures/cpython/programs.jsonl). Each is (name, source);
the recorded answer is what it printed and, if it raised, the final `Type: message` line.
Add a program here, run `make fixtures`, and the Rust test checks it."""

PROGRAMS = [
    ("arithmetic", "print(1 + 2, 7 // -2, -7 % 3, 2 ** 100, 1 / 3)\nprint((-2**63) // -1)\nprint(0.1 + 0.2, 1e16, 1e-5, 3.0)\nprint(True + True, 3 > 2 > 1, 1 < 2 > 3)"),
    ("closures_classes", '''
def make(n):
    total = 0
    def add(x, *, k=1):
        nonlocal total
        total += x * k
        return total
    return add
f = make(0)
f(2); f(3, k=10)
print(f(0))
class A:
    def __init__(self, v):
        self.v = v
    def double(self):
        return self.v * 2
    def __repr__(self):
        return f"A({self.v!r})"
class B(A):
    def double(self):
        return super().double() + 1
print(B(4).double(), [B("x")], sorted([3, 1, 2], key=lambda x: -x))
'''),
    ("comprehensions_fstrings", '''
xs = [i * i for i in range(5) if i % 2 == 0]
d = {k: v for k, v in zip("abc", range(3))}
print(xs, d, sum(x for x in xs), f"{3.14159:.2f}|{'hi':>5}|{255:#x}|{1234567:,}")
'''),
    ("exceptions", '''
try:
    {}["missing"]
except (KeyError, ValueError) as e:
    print("caught", repr(e), e.args)
finally:
    print("finally")
class MyErr(ValueError):
    pass
try:
    raise MyErr("bad")
except ValueError as e:
    print(type(e).__name__, str(e))
'''),
    ("name_error", "print('before')\nx = undefined_name"),
    ("missing_argument", "def f(a, b): pass\nf(1)"),
    ("too_many_arguments", "def f(a): pass\nf(1, 2)"),
    ("unexpected_keyword", "def f(a): pass\nf(1, b=2)"),
    ("duplicate_argument", "def f(a): pass\nf(1, a=2)"),
    ("method_arity", "class C:\n    def m(self, x): return x\nC().m()"),
    ("generators_in_builtins", "print(sum(i for i in range(10)), max((len(w), w) for w in 'a bb ccc'.split()), list(map(str.upper, 'ab')))"),
    ("star_unpacking", "a, *b, c = range(5)\nprint(a, b, c)\nfirst, *rest = 'xyz'\nprint(first, rest, [*rest, *range(2)], {**{'a': 1}, 'b': 2})"),
    ("global_nonlocal", '''
count = 0
def bump():
    global count
    count += 1
def outer():
    x = 1
    def inner():
        nonlocal x
        x += 1
    inner(); inner()
    return x
bump(); bump()
print(count, outer())
'''),
    ("default_mutable", "def f(x, acc=[]):\n    acc.append(x)\n    return acc\nf(1); print(f(2))"),
    ("late_binding", "fs = [lambda: i for i in range(3)]\nprint([f() for f in fs])"),
    ("class_attributes", '''
class C:
    n = 0
    def __init__(self):
        C.n += 1
        self.id = C.n
    @staticmethod
    def s(): return "static"
    @classmethod
    def c(cls): return cls.__name__
    @property
    def p(self): return self.id * 10
a, b = C(), C()
print(C.n, a.id, b.id, C.s(), C.c(), b.p, a.s(), type(a).__name__)
'''),
    ("dunder_methods", '''
class V:
    def __init__(self, x): self.x = x
    def __add__(self, o): return V(self.x + o.x)
    def __eq__(self, o): return isinstance(o, V) and self.x == o.x
    def __lt__(self, o): return self.x < o.x
    def __len__(self): return abs(self.x)
    def __getitem__(self, i): return self.x * i
    def __contains__(self, v): return v == self.x
    def __bool__(self): return self.x != 0
    def __repr__(self): return f"V({self.x})"
    def __call__(self, y): return self.x + y
    def __iter__(self): return iter(range(self.x))
print(V(1) + V(2), V(3) == V(3), V(1) < V(2), len(V(-4)), V(3)[2], 3 in V(3), bool(V(0)), V(5)(1), list(V(3)), sorted([V(2), V(1)]))
'''),
    ("context_manager", '''
class CM:
    def __enter__(self):
        print("enter")
        return 42
    def __exit__(self, t, v, tb):
        print("exit", t.__name__ if t else None)
        return True
with CM() as x:
    print("body", x)
    raise ValueError("swallowed")
print("after")
'''),
    ("try_else_finally_return", '''
def f(x):
    try:
        if x:
            return "try"
    except Exception:
        return "except"
    else:
        return "else"
    finally:
        print("finally", x)
print(f(1), f(0))
'''),
    ("raise_from", '''
try:
    try:
        1 / 0
    except ZeroDivisionError as e:
        raise ValueError("wrapped") from e
except ValueError as e:
    print(repr(e), type(e.__cause__).__name__)
'''),
    ("reraise", "try:\n    try:\n        [][0]\n    except IndexError:\n        print('handling')\n        raise\nexcept LookupError as e:\n    print('outer', e)"),
    ("uncaught_custom", "class Boom(Exception):\n    pass\nraise Boom('kaboom')"),
    ("assert_message", "x = 3\nassert x == 3\nassert x > 5, f'x is {x}'"),
    ("while_else_break", "i = 0\nwhile i < 5:\n    i += 1\n    if i == 3:\n        break\nelse:\n    print('no')\nprint(i)\nfor j in range(2):\n    pass\nelse:\n    print('for else', j)"),
    ("string_methods", "s = 'Hello, World'\nprint(s.lower(), s.upper(), s.split(', '), s.replace('l', 'L', 2), s.find('o'), s.rfind('o'), s.count('l'), s[::-1], s.startswith(('He', 'x')), s.center(16, '*'), s.partition(', '), s.zfill(14), '|'.join(['a', 'b']), s.encode()[:3], s.title(), s.swapcase(), s.strip('Hd'))"),
    ("string_format", "print('{:>6}|{:<6}|{:^6}|'.format('a', 'b', 'c'), '{0}{1}{0}'.format('x', 'y'), '{:+.3e}'.format(12345.678), '%5.1f|%-4d|%s' % (3.14159, 7, [1]), '{x[0]}'.format(x=[9]), f'{\"q\"!r:>5}', format(0.000012345, '.3g'), format(123456789, '_d'))"),
    ("float_repr", "for x in [0.1, 1/3, 2/3, 1e22, 1e-7, 123456789012345678.0, 5e-324, 1.7976931348623157e308, -0.0, 100.0, 1.5e-5, 0.0001]:\n    print(repr(x), str(x), format(x, 'g'), round(x, 3))"),
    ("int_ops", "print(int('0x1F', 16), int('  -42 '), int(3.99), int(-3.99), (5).bit_length(), divmod(-7, 2), pow(2, 100, 97), abs(-2**70), -2**63 - 1, 10**30 // 7, -(10**30) // 7, (10**30) % -7, 2**-1, 0**0)"),
    ("round_half_even", "print([round(x) for x in [0.5, 1.5, 2.5, -0.5, -1.5]], round(2.675, 2), round(1234.5678, -2), round(-0.0), round(15, -1), round(25, -1))"),
    ("list_ops", "xs = [3, 1, 2]\nxs.append(5); xs.insert(0, 9); xs.extend('ab'[::-1])\nprint(xs, xs.pop(), xs.pop(0), xs.index(2), xs.count(1))\nxs.remove(1)\nprint(xs, xs * 2, xs + [0], xs[1:3], xs[::-1], 5 in xs, xs == [3, 2, 5, 'b'])\nxs[1:2] = [7, 8, 9]\ndel xs[0]\nprint(xs, len(xs))"),
    ("list_sort_keys", "data = [('b', 2), ('a', 2), ('c', 1)]\nprint(sorted(data, key=lambda t: t[1]), sorted(data, reverse=True), min(data, key=lambda t: t[0]), max(data))\nxs = [5, -3, 2]\nxs.sort(key=abs, reverse=True)\nprint(xs)"),
    ("dict_ops", "d = {'b': 1}\nd['a'] = 2\nd.update(c=3)\nprint(d, list(d), d.get('z', 0), d.pop('b'), d.setdefault('e', []), d, sorted(d.items()), {**d}, dict(zip('xy', [1, 2])), len(d))\ndel d['a']\nprint(d, 'a' in d, d.popitem(), d)"),
    ("set_ops", "s = {3, 1, 2}\nt = {2, 5}\nprint(sorted(s | t), sorted(s & t), sorted(s - t), sorted(s ^ t), s <= {1, 2, 3, 4}, len(s), 2 in s)\ns.add(9); s.discard(1)\nprint(sorted(s), sorted(frozenset('aba')))"),
    ("tuple_ops", "t = (1, 2, 2, (3, 4))\na, b, *_, (c, d) = t\nprint(t.count(2), t.index((3, 4)), a, b, c, d, t[1:], t + (5,), t * 2, len(t), hash((1, 2)) == hash((1, 2)))"),
    ("repr_containers", "print([1, 'a', None, True, 2.5, (1,), {'k': [1, {2}]}, ''], repr('it\\'s'), repr('\"q\"'), repr('\\n\\t\\\\'), str(b'by\\x00'), [[]], ({},))"),
    ("self_reference_repr", "a = [1]\na.append(a)\nd = {}\nd['d'] = d\nprint(a, d, a == a, [a] == [a])"),
    ("unicode", "s = 'héllo ✓ 𝔘'\nprint(len(s), s.upper(), [ord(c) for c in s[:2]], chr(233), s.encode('utf-8'), s[::-1], ascii(s))"),
    ("bytes_ops", "b = b'abc'\nprint(b[0], b[1:], b + b'd', b * 2, b.hex(), bytes([1, 2]), list(b), b.decode(), b'a' in b, len(b), b.upper())"),
    ("range_ops", "r = range(10, 0, -3)\nprint(list(r), len(r), r[1], r[-1], 4 in r, list(r[1:]), list(range(0)), range(5) == range(0, 5), list(reversed(range(3))))"),
    ("enumerate_zip_map_filter", "print(list(enumerate('ab', 1)), list(zip([1, 2, 3], 'ab')), list(map(lambda a, b: a * b, [1, 2], [3, 4])), list(filter(None, [0, 1, '', 'x'])), list(reversed([1, 2])))"),
    ("iterators", "it = iter([1, 2, 3])\nprint(next(it), list(it), next(it, 'done'))\nit2 = iter('ab')\nfor ch in it2:\n    print(ch)"),
    ("isinstance_type", "print(isinstance(1, int), isinstance(True, int), isinstance(1.0, (int, str)), issubclass(bool, int), type(1) is int, type('a').__name__, type(None).__name__, isinstance([], (list, tuple)), issubclass(KeyError, Exception))"),
    ("getattr_family", "class C: pass\nc = C()\nsetattr(c, 'x', 1)\nprint(getattr(c, 'x'), getattr(c, 'y', 2), hasattr(c, 'x'), hasattr(c, 'z'), callable(c), callable(C), callable(print))"),
    ("conversions", "print(str(1.0), str(True), int('7'), float('2.5'), bool(''), bool('0'), list('ab'), tuple([1]), set('aa'), dict([(1, 2)]), repr(None), int(True), float(3))"),
    ("chained_comparisons", "x = 5\nprint(1 < x < 10, 1 < x > 10, x == 5 == 5.0, 'a' < 'b' <= 'b', [1, 2] < [1, 2, 0], (1, 'a') < (1, 'b'), None is None, 1 is not None)"),
    ("boolean_values", "print(0 or 'x', 1 and 2, [] or {} or 'last', not [], None and 1, 3 and 0 or 4)"),
    ("walrus", "data = [1, 5, 8]\nprint([y for x in data if (y := x * 3) > 4], y)\nif (n := len(data)) > 2:\n    print('n', n)"),
    ("nested_functions_recursion", "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\ndef fact(n):\n    return 1 if n == 0 else n * fact(n - 1)\nprint(fib(20), fact(30), [fib(i) for i in range(10)])"),
    ("decorators", "def deco(f):\n    def w(*a, **k):\n        return ('wrapped', f(*a, **k))\n    return w\n@deco\ndef g(x, y=2):\n    return x + y\nprint(g(1), g(1, y=5))"),
    ("lambda_defaults_kwargs", "f = lambda a, b=2, *args, c=3, **kw: (a, b, args, c, sorted(kw))\nprint(f(1), f(1, 4, 5, 6, c=7, z=1, y=2))"),
    ("math_module", "import math\nprint(math.sqrt(16), math.floor(-2.5), math.ceil(2.1), math.pi, math.e, math.log(math.e), math.log(8, 2), math.exp(0), math.isclose(0.1 + 0.2, 0.3), math.inf > 10**308, math.gcd(12, 18), math.factorial(10), math.fsum([0.1] * 10), math.hypot(3, 4), math.isnan(float('nan')), math.trunc(-2.7), math.copysign(2, -0.0), math.atan2(1, 1), math.degrees(math.pi))"),
    ("functools_itertools", "import functools, itertools, operator\nprint(functools.reduce(operator.add, [1, 2, 3]), list(itertools.chain([1], (2, 3))), list(itertools.product('ab', repeat=2)), list(itertools.accumulate([1, 2, 3])), list(itertools.islice(itertools.count(5), 3)), list(itertools.combinations(range(4), 2))[:3], list(itertools.permutations('abc', 2))[:2], list(itertools.zip_longest('ab', 'x', fillvalue='-')), operator.itemgetter(1)([5, 6]), functools.partial(pow, 2)(10))"),
    ("dataclass", "from dataclasses import dataclass, field\n@dataclass\nclass P:\n    x: int\n    y: float = 1.5\n    tags: list = field(default_factory=list)\np = P(1)\nprint(p, P(2, 3.0) == P(2, 3.0), p.tags, P(1, tags=['t']))"),
    ("copy_module", "import copy\na = [[1], 2]\nb = copy.copy(a)\nc = copy.deepcopy(a)\na[0].append(9)\nprint(b, c, b[0] is a[0], c[0] is a[0])"),
    ("zero_division", "print('x')\nprint(1 % 0)"),
    ("key_error_repr", "d = {('a', 1): 2}\nd[('b', 2)]"),
    ("attribute_error_module", "import math\nmath.not_a_function"),
    ("unhashable", "s = {[1, 2]}"),
    ("index_error_tuple", "(1, 2)[5]"),
    ("type_error_call", "x = 5\nx()"),
    ("type_error_subscript", "x = 5\nx[0]"),
    ("type_error_compare", "print([1] < 'a')"),
    ("value_error_unpack", "a, b = [1, 2, 3]"),
    ("value_error_unpack_few", "a, b, c = [1, 2]"),
    ("recursion_in_repr", "class R:\n    def __repr__(self):\n        return repr(self)\nrepr(R())"),
    ("overflow_float", "print(2.0 ** 2000)"),
    ("int_too_large_for_str", "x = 10 ** 5000\nprint(len(str(x)))"),
    ("torch_indexing", '''
import torch
h = torch.arange(24).view(2, 3, 4)
print(h[0, [0, 1], [2, 3]])
print(h[:, -1, ::2].shape, h[None, ..., 0].shape)
h[0, :, 1] = 0
h **= 2
print(h[0])
'''),
    ("torch_reprs", '''
import torch
print(torch.tensor([1.5, -2.0, 3.25]))
print(torch.tensor([[1, 2], [3, 4]]))
print(torch.tensor(2.5), torch.tensor([True, False]), torch.zeros(2, 3))
print(torch.tensor([1e-8, 1.0]), torch.tensor([1e10, 1.0]), torch.tensor([0.1, 0.25, 1000.5]))
print(torch.arange(6).float().view(2, 3) / 3)
print(torch.tensor([float('nan'), float('inf'), -1.0]), torch.tensor([], dtype=torch.int64))
print(torch.tensor([1, 2], dtype=torch.int32), torch.tensor([1.0], dtype=torch.float64), torch.ones(2, dtype=torch.float16))
'''),
    ("torch_ops", '''
import torch
torch.manual_seed(0)
x = torch.randn(3, 4)
print(x.sum().item() == x.sum().item(), x.shape, x.dtype, x.argmax(dim=1), x.max(dim=0).indices, x.topk(2).indices)
y = torch.arange(12).view(3, 4)
print(y.sum(0), y.float().mean(1), y.cumsum(1)[-1], y.T.shape, y.reshape(-1)[5], y.flip(0)[0], torch.cat([y, y]).shape, torch.stack([y, y], dim=2).shape)
print((y > 5).sum(), torch.where(y > 5, y, -y)[1], y.clamp(2, 8)[0], y[y % 2 == 0], y.unique().numel(), y.max(), y.min(dim=1).values)
print(y.to(torch.float32) @ torch.ones(4), torch.einsum('ij->j', y), y.view(2, 6).tolist(), y.dtype, (y / 2).dtype, (y // 2).dtype)
'''),
    ("torch_errors", "import torch\ntorch.ones(3) + torch.ones(4)"),
    ("torch_bool_error", "import torch\nif torch.ones(2):\n    pass"),
    ("torch_index_error", "import torch\ntorch.ones(3)[5]"),
]
PROGRAMS += [
    ("torch_unsupported_dtype_op", "import torch\nprint(torch.arange(6) & 3)\ntorch.arange(6.0) & 0"),
]

# numpy (the interpreter's `numpy`: arrays on the CPU with numpy's semantics and text).
PROGRAMS += [
    ("numpy_creation", '''
import numpy as np
for a in [np.array([1, 2, 3]), np.array([[1.0, 2.5], [3, 4]]), np.array([True, False]), np.array([True, 2]),
          np.array([1, 2], dtype=np.float32), np.array([0.5, 1.5, -1.7], dtype="int32"), np.array(7), np.array([]),
          np.array([[], []]), np.array([np.float32(1.5), 2]), np.array([np.int8(1), np.int16(2)]), np.array((1, 2.5)),
          np.array([np.array([1, 2]), np.array([3, 4])]), np.array([1, 2], ndmin=3), np.array(2.5, dtype=np.int64)]:
    print(repr(a), a.dtype, a.shape, a.ndim, a.size)
print(np.zeros(3), np.zeros((2, 3), dtype=np.int64), np.ones(4, dtype=bool), np.full((2, 2), 7), np.full(3, 0.5, dtype=np.float32))
print(np.full(2, True), np.zeros_like(np.array([[1.5]])), np.ones_like(np.array([1, 2])), np.full_like(np.array([1.0, 2.0]), 3), np.empty(0))
print(np.arange(5), np.arange(1, 2, 0.25), np.arange(10, 0, -3), np.arange(3.0), np.arange(0, 1, 0.1), np.arange(-1, 1, 0.3), np.arange(2, dtype=float), np.arange(0))
print(np.linspace(0, 1, 5), np.linspace(0, 1, 4, endpoint=False), np.linspace(-2.5, 7.25, 11), np.linspace(0, 10, 7), np.linspace(3, 3, 3), np.linspace(0, 1, 1), np.linspace(0, 9, 4, dtype=int))
print(np.linspace(0, 1, 3, retstep=True), np.eye(3), np.eye(2, 3, k=1, dtype=int), np.eye(3, k=-1), np.identity(2, dtype=bool))
print(np.asarray([1.0, 2.0]), np.copy(np.array([1, 2])), np.array(range(4)))
'''),
    ("numpy_ragged", "import numpy as np\nnp.array([[1, 2], [3]])"),
    ("numpy_ragged_deep", "import numpy as np\nnp.array([[1, 2], 3])"),
    ("numpy_bad_dtype", "import numpy as np\nnp.zeros(2, dtype='nope')"),
    ("numpy_dtypes", '''
import numpy as np
a = np.arange(3)
print(a.dtype, repr(a.dtype), a.dtype.name, a.dtype.kind, a.dtype.itemsize, a.dtype.str, a.dtype == np.int64, a.dtype == "int64", a.dtype == float, a.dtype != np.float64)
print(np.dtype("float32"), np.dtype(np.int8), np.dtype(float), np.dtype("f8") == np.float64, np.float32, np.int64, np.bool_, np.dtype(bool))
print(np.float64(2.5), np.float32(1) / 3, np.int64("12"), np.float64("1.5"), np.int32(3.9), np.bool_(0), np.float64(), np.int8(-3) * 2)
print(type(np.float64(1)).__name__, type(np.int64(1)), isinstance(np.float64(1.0), float), isinstance(np.float32(1.0), float), isinstance(np.int64(1), int))
print(isinstance(np.int64(1), np.integer), isinstance(np.float32(1), np.floating), isinstance(np.bool_(1), np.generic), isinstance(np.array([1]), np.ndarray), issubclass(np.float64, np.floating))
print(np.result_type(np.int8, np.float32), np.result_type(np.array([1]), 1.5), np.result_type(np.int64, np.float32))
'''),
    ("numpy_arithmetic", '''
import numpy as np
a = np.array([1, 2, 3])
b = np.array([[0.5], [2.0]])
f = np.array([1.5, -2.25, 3.0], dtype=np.float32)
i8 = np.array([100, -100, 7], dtype=np.int8)
u8 = np.array([200, 10, 0], dtype=np.uint8)
for x in [a + 1, a * 2.5, a / 2, a // 2, a % 2, -a, a ** 2, 2 ** a, 1 - a, 10 / a, a + b, a * b, b - a, a / a,
          a // np.array([2, -2, 2]), np.array([-7, 7]) % 3, np.array([-7.5, 7.5]) // 2, np.array([-7.5, 7.5]) % -2,
          f + 1, f * 2.0, f + a, f / 3, f + np.float64(1), f - np.float32(0.5), f ** 2, f // 1,
          a & 6, a | 4, a ^ 1, a << 2, a >> 1, ~a, np.array([True, False]) + np.array([True, True]),
          np.array([True, False]) * np.array([True, True]), np.array([2 ** 62, 2 ** 62]) * 4, i8 * 2, i8 + 100, u8 + u8, u8 * 2,
          i8 + u8, np.array([1, 2], dtype=np.int32) + np.array([1, 2], dtype=np.int64), np.array([1, 2], dtype=np.int32) + 1.5,
          np.array([1, 2], dtype=np.int16) * np.float32(2), np.array([1, 2], dtype=np.int8) + np.float16(1), a // 0, a % 0, np.array([1.0, -1.0, 0.0]) / 0,
          np.array([True]) // np.array([True]), np.array([True, False]) ** 2, abs(np.array([-1.5, 2])), abs(np.array([-3, 3])), +a, a * True]:
    print(repr(x))
print(np.float64(1.5) + 1, np.float32(1.5) + 1.0, np.int64(7) // 2, np.int64(7) / 2, 3 - np.int64(1), 2.5 * np.float32(2), np.int64(2) ** 3, -np.int64(4), np.int8(100) + np.int8(100))
print(repr(np.float64(1.5) + 1), repr(np.float32(1.5) + 1.0), repr(np.int64(7) / 2), repr(np.int32(3) + np.int64(4)), repr(np.float32(2) * np.float64(3)), repr(np.int64(3) + 0.5))
'''),
    ("numpy_comparisons", '''
import numpy as np
a = np.array([1, 2, 3])
b = np.array([[0.5], [2.0]])
print(a > 1, a == 2, a != b, 2 <= a, (a > 1) & (a < 3), (a > 2) | (a < 2), ~(a > 1), a == 2.0, a < np.float32(2.5))
print(repr(np.int64(3) > 2), repr(np.float64(0.5) == 0.5), np.int64(3) == 3, 3 in a, 7 in a, 2.0 in a, [1, 2] == list(np.array([1, 2])))
print(np.array([1, 2]) == np.array([1, 3]), np.array([np.nan]) == np.array([np.nan]), np.array([1, 300], dtype=np.int16) == 300)
print({np.int64(1): "one"}[1], hash(np.float64(0.5)) == hash(0.5), np.float64(2) in [1, 2.0], max(np.array([4, 9, 2])), min(np.array([0.5, -1.5])), sorted(np.array([3, 1, 2])))
'''),
    ("numpy_bool_subtract", "import numpy as np\nnp.array([True]) - np.array([False])"),
    ("numpy_bool_negative", "import numpy as np\n-np.array([True])"),
    ("numpy_float_and", "import numpy as np\nnp.array([1.5]) & 1"),
    ("numpy_int_negative_power", "import numpy as np\nnp.array([2, 3]) ** -1"),
    ("numpy_broadcast_error", "import numpy as np\nnp.ones(3) + np.ones(4)"),
    ("numpy_int8_overflow_scalar", "import numpy as np\nnp.array([1, 2], dtype=np.int8) + 300"),
    ("numpy_inplace", '''
import numpy as np
c = np.array([1, 2, 3])
d = c
c += 1
c *= 3
c -= np.array([1, 1, 1])
c //= 2
c **= 2
print(c, d is c, d)
f = np.array([1.0, 2.0], dtype=np.float32)
f /= 2
f += 1
print(f, f.dtype)
s = np.float64(1.5)
t = s
s += 1
print(s, t, type(s).__name__)
m = np.zeros((2, 2))
m[0] += 5
m[:, 1] *= 2
m[m == 0] -= 1
print(m)
b = np.array([True, False])
b |= np.array([False, True])
print(b)
'''),
    ("numpy_inplace_cast_error", "import numpy as np\nc = np.array([1, 2])\ntry:\n    c += 1.5\nexcept TypeError as e:\n    print(type(e).__name__, e)"),
    ("numpy_reductions", '''
import numpy as np
m = np.array([[0.1, 0.7, 0.2], [0.4, 0.4, 0.9]])
i = np.array([[3, 1, 2], [5, 9, 4]])
bools = np.array([True, False, True, True])
long = np.arange(300) * 0.1
for s in [m.sum(), m.mean(), m.max(), m.min(), m.argmax(), m.argmin(), m.std(), m.var(), m.prod(), i.sum(), i.mean(),
          i.max(), i.argmax(), i.std(), i.prod(), bools.sum(), bools.mean(), bools.any(), bools.all(), np.sum(m), np.mean(i),
          np.var(i), long.sum(), long.mean(), long.std(), long.var(), np.sum([1, 2, 3]), np.mean([1.5, 2.5]), m.std(ddof=1),
          i.var(ddof=1), np.array([1.5, 2.5], dtype=np.float32).sum(), np.array([0.1, 0.2, 0.3], dtype=np.float32).mean(),
          np.array([0.1, 0.2, 0.7], dtype=np.float32).std(), np.median(np.array([3.0, 1.0, 2.0])), np.median(np.array([4, 1, 3, 2])),
          np.array([1, 2], dtype=np.int32).sum(), np.array([1, 2], dtype=np.int8).prod(), np.ptp(i), np.amax(m), np.amin(i),
          np.average(m), i.cumsum()[-1], np.array([7]).sum(), np.sum(np.float64(2.5)), np.max([[1, 5], [3, 2]]), np.array([1e16, 1.0, -1e16]).sum()]:
    print(repr(s))
for a in [m.sum(axis=0), m.sum(axis=1), m.sum(axis=-1, keepdims=True), m.mean(axis=0), i.mean(axis=1), m.max(axis=1), i.min(axis=0),
          m.argmax(axis=1), i.argmin(axis=0), m.std(axis=0), i.var(axis=1), i.prod(axis=0), m.cumsum(), i.cumsum(axis=1), m.cumsum(axis=0),
          np.sum(i, axis=0, keepdims=True), np.mean(m, axis=1), np.cumsum(bools), m.sum(keepdims=True), long.reshape(30, 10).sum(axis=0),
          long.reshape(30, 10).sum(axis=1), long.reshape(10, 30).sum(axis=1), long.reshape(3, 10, 10).sum(axis=(0, 2)), long.reshape(3, 10, 10).mean(axis=1),
          long.reshape(10, 30).T.sum(axis=0), long.reshape(10, 30).T.sum(axis=1), np.sum(m.T), m.T.sum(axis=1), m.cumprod(axis=1), i.cumprod(),
          bools.sum(axis=0), np.any(m > 0.5, axis=0), np.all(i > 1, axis=1), m.argmax(axis=0, keepdims=True), np.median(i, axis=1), np.ptp(m, axis=0),
          np.count_nonzero(i > 2, axis=0), i.max(axis=(0, 1)), np.sum(np.arange(24).reshape(2, 3, 4), axis=(0, 2))]:
    print(repr(a))
print(np.count_nonzero(i > 2), repr(np.count_nonzero(i > 2)), np.arange(1000).reshape(100, 10).astype(float).std(axis=0)[:3], np.arange(10000) .sum(), (np.arange(10001) * 0.01).sum())
'''),
    ("numpy_empty_max", "import numpy as np\nnp.array([]).max()"),
    ("numpy_axis_error", "import numpy as np\ntry:\n    np.ones((2, 2)).sum(axis=2)\nexcept (ValueError, IndexError) as e:\n    print(type(e).__name__, e, isinstance(e, IndexError))"),
    ("numpy_functions", '''
import numpy as np
a = np.array([3, 1, 2, 3, 1])
x = np.array([[1.0, 4.0], [9.0, 16.0]])
v = np.array([1, 2])
for r in [np.concatenate([a, a]), np.concatenate((x, x), axis=1), np.concatenate([v, np.array([0.5])]), np.concatenate([x, x], axis=None),
          np.stack([v, v]), np.stack([v, v], axis=1), np.stack([v, v], axis=-1), np.vstack([v, v]), np.hstack([v, v]), np.hstack([x, x]), np.column_stack([v, v]),
          np.where(a > 1, a, 0), np.where(x > 4, x, -x), np.where(a > 1, 1.5, 0), np.where(a == 3)[0], np.where(x > 1), np.nonzero(a > 2), np.argwhere(x > 4),
          np.abs(np.array([-2, 3])), np.absolute(np.array([-1.5])), np.sqrt(x), np.sqrt(a), np.exp(np.array([0.0, 1.0])), np.log(np.array([1.0, np.e])),
          np.exp(v), np.log(x), np.log2(np.array([1, 8])), np.log10(np.array([100.0])), np.exp(np.array([0], dtype=np.int16)), np.sqrt(np.array([4], dtype=np.int8)),
          np.sort(a), np.sort(x, axis=0), np.sort(a)[::-1], np.argsort(a), np.argsort(-x, axis=1), np.sort(np.array([[3, 1], [2, 0]]), axis=None), np.unique(a), np.unique(x),
          np.dot(v, v), np.dot(x, v), np.dot(2, v), np.matmul(x, x), x @ x, v @ x, x @ v, np.outer(v, v), np.inner(v, v), np.vdot(x, x),
          np.maximum(a, 2), np.minimum(x, 5.0), np.maximum(np.array([1.0, np.nan]), 0), np.fmax(np.array([1.0, np.nan]), 0),
          np.clip(a, 1.5, 2.5), np.clip(a, 2, None), np.clip(x, None, 5), np.round(np.array([0.5, 1.5, 2.567]), 1), np.round(np.array([0.5, 1.5, 2.5, -0.5])),
          np.round(np.array([1234, 5678]), -2), np.around(np.array([1.25, 1.35]), 1), np.square(v), np.square(np.array([True])), np.sign(np.array([-2.0, 0.0, 3.0])), np.sign(np.array([-4, 0, 2])),
          np.isnan(np.array([1.0, np.nan])), np.isinf(np.array([np.inf, 1])), np.isfinite(np.array([np.inf, 1.0])), np.floor(np.array([1.5, -1.5])), np.ceil(np.array([1.2])),
          np.trunc(np.array([-1.7])), np.rint(np.array([0.5, 1.5])), np.floor(np.array([3, 4])), np.mean(np.stack([x, x]), axis=0), np.transpose(x), np.transpose(np.zeros((2, 3, 4)), (1, 0, 2)).shape,
          np.reshape(a, (5, 1)), np.squeeze(np.array([[1], [2]])), np.expand_dims(v, 0), np.expand_dims(v, -1), np.flip(a), np.flip(x, 1), np.diff(a), np.diff(x, axis=0), np.diff(a, n=2),
          np.count_nonzero(a > 1), np.allclose(x, x), np.allclose(x, x + 1e-9), np.isclose(x, 4.0), np.array_equal(v, [1, 2]), np.array_equal(v, v[:1]),
          np.add(v, 1), np.subtract(v, 0.5), np.multiply(v, v), np.divide(v, 2), np.power(v, 3), np.mod(v, 2), np.negative(v), np.equal(v, 1), np.greater(v, 1), np.less_equal(v, 1),
          np.logical_and(a > 1, a < 3), np.logical_or(a > 2, a < 2), np.logical_not(a > 1), np.logical_xor(a > 1, a > 2), np.ravel(x), np.shape(x), np.ndim(x), np.size(x), np.atleast_2d(v).shape,
          np.sin(np.array([0.0])), np.tanh(np.array([0.0, 1.0])), np.expm1(np.array([0.0])), np.log1p(np.array([0.0])), np.cos(np.array([0.0]))]:
    print(repr(r))
u, idx, inv, counts = np.unique(a, return_index=True, return_inverse=True, return_counts=True)
print(u, idx, inv, counts, counts.dtype, np.unique(np.array([[2, 1], [1, 2]]), return_inverse=True)[1])
y = np.array([3, 1, 2])
y.sort()
print(y, np.isscalar(3.0), np.isscalar(np.float64(1)), np.isscalar(y))
'''),
    ("numpy_concat_error", "import numpy as np\nnp.concatenate([np.ones((2, 2)), np.ones((3, 3))])"),
    ("numpy_matmul_error", "import numpy as np\nnp.ones((2, 3)) @ np.ones((2, 3))"),
    ("numpy_attributes", '''
import numpy as np
a = np.arange(6).reshape(2, 3)
b = a.copy()
b[0, 0] = 100
print(a.shape, a.ndim, a.size, a.dtype, a.T, a.T.shape, a.reshape(3, 2), a.reshape(-1), a.reshape((3, -1)).shape, a.reshape(1, 6).shape)
print(a.astype(np.float32).dtype, a.astype(float), a.astype(bool), np.array([1.7, -1.7]).astype(int), a.astype("int8").dtype, np.array([0.0, 2.5]).astype(bool))
print(a.tolist(), np.array([[2.5]]).item(), a[1, 2].item(), type(a.item(0)).__name__, a.item(1, 2), a.flatten(), a.ravel(), a.T.flatten(), a.T.ravel())
print(len(a), len(a[0]), [r.tolist() for r in a], [type(x).__name__ for x in a[0]], b[0, 0], a.itemsize, a.nbytes, a.strides, a.T.strides, a.transpose().shape)
print(a.squeeze().shape, a[None].shape, a.swapaxes(0, 1).shape, np.zeros((1, 3, 1)).squeeze().shape, np.zeros((1, 3, 1)).squeeze(axis=0).shape)
print([int(x) for x in np.array([3, 4])], [float(x) for x in np.array([0.5])], float(np.float64(2.5)), int(np.int64(7)), int(np.float64(-2.7)), bool(np.array([1])), bool(np.float64(0.0)))
print(sum(np.array([1, 2, 3])), repr(sum(np.array([1.5, 2.5]))), list(np.array([1.5, 2.5])), tuple(np.array([1, 2])), [10, 20, 30][np.int64(1)], range(np.int64(3)), "abc"[np.int64(-1)])
print(round(np.float64(2.567), 2), repr(round(np.float64(2.567), 2)), round(np.float64(2.5)), type(round(np.float64(2.5))).__name__, round(np.float32(1.25), 1), repr(np.float64(3.7).round()))
print(f"{np.float64(0.125):.2f}|{np.int64(5):03d}|{np.float32(0.1)}|{np.float64(1/3)}|{np.array([1, 2])}|{np.int64(42)}|{np.float64(2.5):>8}|{np.bool_(True)}")
print("%.3f %d %s" % (np.float64(1.23456), np.int64(9), np.float32(0.5)), str(np.float64(1e20)), np.float64(2.5) > 2, abs(np.float64(-1.5)), abs(np.int64(-3)))
for r in a:
    print(r, r.sum())
for x in np.array([1.5, 2.5]):
    print(repr(x))
print(a.sum(axis=1).tolist(), a.mean(), a.astype(np.float32).mean(), a.view().shape, a.fill(7), a, a.nonzero())
'''),
    ("numpy_reshape_error", "import numpy as np\nnp.arange(6).reshape(4, 2)"),
    ("numpy_len_scalar", "import numpy as np\nlen(np.float64(1.0))"),
    ("numpy_iter_0d", "import numpy as np\nfor x in np.array(5):\n    pass"),
    ("numpy_truth", "import numpy as np\nif np.array([1, 2]):\n    pass"),
    ("numpy_unhashable", "import numpy as np\n{np.array([1]): 1}"),
    ("numpy_no_attr", "import numpy as np\nnp.array([1]).nonexistent"),
    ("numpy_indexing", '''
import numpy as np
a = np.arange(12).reshape(3, 4) * 1.5
v = np.array([10, 20, 30, 40, 50])
for x in [a[0], a[-1], a[1, 2], a[-1, -1], a[1:], a[:, 1], a[:, -2:], a[::2], a[:, ::-1], a[::-1, ::-2], a[::-1], v[1:4], v[::-1], v[-2:], v[4:1:-1],
          v[-1:-6:-2], v[10:], v[:-10:-1], v[3:0:-1], v[[0, 2, 4]], v[np.array([4, 0])], v[v > 25], a[a > 6], a[[0, 2], [1, 3]], a[..., 0], a[None, 0].shape,
          a[1][2], v[np.array([True, False, True, False, True])], a[[2, 0]], a[:, [True, False, True, False]], v[-1], a[np.int64(1)], v[np.int64(2):],
          a[1, [0, 2]], a[[0, 1], 1:3], a[:, None, 0], a[np.array([[0, 1], [1, 2]])].shape, v[[]], a[0, ...], a[..., 1:3], a[1:2, ::-1], a[(0, 1)], v[True].shape]:
    print(repr(x))
w = v.copy()
w[0] = 99
w[-1] = 1.9
w[1:3] = [7, 8]
w[w > 30] = 0
w[[0, 1]] += 5
w[::-2] = -1
print(w)
m = np.zeros((2, 3))
m[0] = 1
m[:, 2] = np.array([4, 5])
m[m == 0] = -1
m[1, ::-1] = [7, 8, 9]
print(m)
view = v[1:3]
view[0] = -20
print(v, a[1:, 1:].sum(), np.array([[1, 2], [3, 4]])[np.array([0, 1]), np.array([1, 0])])
s = np.arange(5)[2]
print(repr(s), repr(s[()]), repr(np.array(3.5)[()]), repr(np.array(3.5)[...]))
'''),
    ("numpy_index_error", "import numpy as np\nnp.arange(3)[5]"),
    ("numpy_index_float", "import numpy as np\nnp.arange(3)[1.0]"),
    ("numpy_index_too_many", "import numpy as np\nnp.arange(3)[0, 1]"),
    ("numpy_mask_mismatch", "import numpy as np\nnp.arange(3)[np.array([True, False])]"),
    ("numpy_repr", '''
import numpy as np
for x in [np.array([1, 2, 3]), np.array([1.0, 2.5, -3.0]), np.array([0.1, 0.25]), np.array([True, False]), np.array([[1, 22], [333, 4]]),
          np.array([[0.5, 1.0], [1.5, 2.0]]), np.array([1e-5, 1.0]), np.array([1e10, 1.0]), np.array([1.5, np.nan, np.inf]), np.array([np.nan, -np.inf]),
          np.array([1, 2], dtype=np.float32), np.array([1, 2], dtype=np.int32), np.array([0.1, 0.2], dtype=np.float32), np.zeros((2, 2, 2)), np.array([]),
          np.zeros((0, 3)), np.array(3.5), np.array(True), np.array(np.nan), np.arange(40) * 1.25, np.arange(2000), np.arange(2000.0).reshape(40, 50),
          np.arange(3000).reshape(10, 10, 30), np.array([1 / 3, 2 / 3]), np.array([123456789.0, 0.5]), np.array([-1, 10, -100]), np.array([-0.0, 1.0]),
          np.array([1e8, 1.0]), np.array([99999999.0, 1.0]), np.array([1e6, 1.0], dtype=np.float32), np.array([0.0001, 0.001]), np.array([0.0, 1e-5]),
          np.array([1e-4], dtype=np.float32), np.array([0.1 + 0.2]), np.array([1 / 3], dtype=np.float32), np.array([1.5, 2.5], dtype=np.float16),
          np.array([[1, 2], [3, 4]], dtype=np.int8), np.array([1e100, 1e-100]), np.array([-1.5e-7, 2.0]), np.array([12345.678, 0.001]), np.arange(30).reshape(3, 10) * 1000.5,
          np.array([[True, False], [False, True]]), np.linspace(0, 1, 7).astype(np.float32), np.array([0, 255], dtype=np.uint8), np.ones((2, 1, 3)), np.array([[[1]]]),
          np.float64(1.5), np.float64(3.0), np.float64(1e16), np.float64(1e15), np.float64(1e-5), np.float64(1e-4), np.float64(-0.0), np.float64(np.nan), np.float32(0.1),
          np.float32(1e6), np.float32(999999.0), np.float32(1e-4), np.float32(123456789.0), np.float16(0.1), np.float16(1000.0), np.float16(999.0), np.int64(7), np.int32(-3),
          np.uint8(255), np.bool_(True), np.bool_(False), np.array([1.0, 2.0]).sum(), np.array([0.1, 0.2]).dtype, np.float64(0.1) + np.float64(0.2)]:
    print(repr(x))
    print(str(x))
print([np.float64(1.5), np.int64(2), (np.array([1]),)], {"a": np.array([[1.5]])})
print(np.array([[1.5, 2.0], [3.0, 4.0]]))
'''),
    ("numpy_torch_interop", '''
import numpy as np
import torch
t = torch.arange(6.0).reshape(2, 3)
a = t.numpy()
a[0, 0] = 100
print(t[0, 0].item(), type(a).__name__, a.dtype, repr(a))
b = torch.from_numpy(np.array([1.5, 2.5]))
print(b, b.dtype, torch.tensor(np.array([1, 2])), torch.tensor(np.array([1, 2])).dtype, torch.as_tensor(np.array([0.5])).dtype)
c = np.zeros(2)
d = torch.from_numpy(c)
d[1] = 7
print(c, np.array(torch.arange(3)), np.array(torch.ones(2, dtype=torch.float32)).dtype, np.array([torch.tensor(1.5), torch.tensor(2.5)]))
print(torch.ones(2) * np.float64(2.0), torch.ones(2) + np.array([1.0, 2.0]), torch.tensor([np.float64(1.0), np.float64(2.0)]).dtype, torch.tensor(np.float32(1.5)))
print(np.array(t.tolist()), torch.from_numpy(np.array(t.tolist())).dtype, torch.is_tensor(a), torch.is_tensor(b), torch.zeros(3)[np.int64(1)])
'''),
    ("numpy_requires_grad", "import numpy as np\nimport torch\ntorch.ones(2, requires_grad=True).numpy()"),
    ("numpy_bfloat16", "import numpy as np\nimport torch\ntorch.ones(2, dtype=torch.bfloat16).numpy()"),
    ("numpy_from_numpy_scalar", "import numpy as np\nimport torch\ntorch.from_numpy(np.float64(1.0))"),
]
PROGRAMS += [
    ("numpy_misc", '''
import copy
import numpy as np
from numpy import linalg
a = np.array([[3.0, 4.0], [6.0, 8.0]])
b = copy.copy(a)
c = copy.deepcopy(a)
b[0, 0] = -1
c[0, 1] = -2
print(a, type(b).__name__, type(c).__name__, copy.deepcopy(np.float64(1.5)), type(copy.deepcopy(np.int64(2))).__name__)
print(a.dtype in (np.float32, np.float64), a.dtype in [np.int64], np.dtype("float64") in {"x": 1}.keys() or True, np.float32 in (np.float32,))
print(np.linalg.norm(np.array([3.0, 4.0])), np.linalg.norm(a), np.linalg.norm(a, axis=1), linalg.norm(np.array([1, 2, 2])), np.linalg.norm(a, axis=0, keepdims=True), np.linalg.norm(a, ord=1, axis=1))
scores = np.array([0.1, 0.5, 0.2, 0.9, 0.3])
top = np.argsort(scores)[::-1][:3]
print(top, scores[top], [int(i) for i in top], np.round(scores / scores.sum(), 3))
e = np.exp(scores - scores.max())
print(e / e.sum(), (e / e.sum()).sum())
grid = np.zeros((3, 3))
for i in range(3):
    for j in range(3):
        grid[i, j] = i * 3 + j
print(grid, grid.max(axis=0), grid[grid > 4].mean(), np.where(grid > 4))
vals = [np.float64(0.5), np.float64(1.5)]
print(sum(vals), max(vals), sorted(vals, reverse=True), np.mean(vals), np.array(vals).dtype, {float(v): str(v) for v in vals})
'''),
]
PROGRAMS += [
    ("numpy_sum_order", '''
import numpy as np
x = np.arange(1000) * 0.1 + 1 / 3
m = x.reshape(10, 100)
t = x.reshape(20, 50).T
for s in [x.sum(), x[::3].sum(), m[:, ::2].sum(), m[::2, :].sum(), m[:, 10:90].sum(), m[:, 10:90].sum(axis=1), m[:, ::2].sum(axis=0),
          t.sum(), t.sum(axis=0), t.sum(axis=1), t[::2].sum(), t[:, :7].sum(axis=1), x.reshape(5, 2, 100)[:, 0, :].sum(), x.reshape(5, 2, 100).sum(axis=(0, 2)),
          x.reshape(10, 10, 10).transpose(2, 0, 1).sum(axis=(1, 2)), x.reshape(10, 10, 10)[:, :, 3].sum(), m.mean(axis=1), m[:, ::3].std(axis=1), t.var(),
          x.astype(np.float32).reshape(4, 250).sum(axis=1), x.astype(np.float32)[::7].mean(), np.cumsum(x)[-1], np.cumsum(x.astype(np.float32))[-3:],
          x[np.array([5, 1, 900])].sum(), x[x > 50].sum(), np.flip(x).sum()]:
    print(repr(s))
'''),
]
PROGRAMS += [
    ("numpy_of_tensors", '''
import numpy as np
import torch
t = torch.tensor([[1.0, 2.0], [3.0, 5.0]])
for r in [np.array(t), np.asarray(t[0]), np.concatenate([t, t]), np.stack([t[0], t[1]]), np.median(t), np.float64(t[0, 0]), np.float32(torch.tensor(2.5)),
          np.int64(torch.tensor(7)), np.dot(t[0], t[0]), np.unique(t), np.where(t > 2, t, 0), np.sort(t), np.zeros_like(t), np.isclose(t, t), np.allclose(t, t),
          np.count_nonzero(t), np.diff(t[0]), np.ravel(t), np.shape(t), np.ndim(t), np.average(t), np.outer(t[0], t[1]), np.vstack([t, t]).shape]:
    print(repr(r))
'''),
]
PROGRAMS += [
    ("numpy_issubdtype", '''
import numpy as np
a = np.arange(3)
print(np.issubdtype(a.dtype, np.integer), np.issubdtype(a.dtype, np.floating), np.issubdtype(np.float32, np.floating), np.issubdtype(np.float64, np.number),
      np.issubdtype(np.bool_, np.integer), np.issubdtype(a.dtype, np.int64), np.issubdtype("f4", np.float32), np.issubdtype(np.uint8, np.signedinteger), np.issubdtype(np.int8, np.generic))
'''),
]
PROGRAMS += [
    ("numpy_float_of_array", "import numpy as np\nprint(float(np.array(2.5)), int(np.array(3)), float(np.float32(0.5)))\nfloat(np.array([1.0]))"),
]
