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
