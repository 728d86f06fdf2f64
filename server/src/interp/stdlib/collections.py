# collections for intervention code, in the Python the interpreter runs: Counter,
# defaultdict, deque and namedtuple with CPython's behaviour for the bookkeeping
# intervention code does (counting tokens, grouping values, bounded histories). Each
# keeps its contents in a builtin container (`_data`); the server's result writer pickles
# Counter, defaultdict and deque as CPython does, so the client gets the real types.
# OrderedDict is the builtin dict (insertion-ordered).

__all__ = ["Counter", "defaultdict", "deque", "namedtuple", "OrderedDict"]

OrderedDict = dict


class _Mapping:
    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return iter(self._data)

    def __contains__(self, key):
        return key in self._data

    def __getitem__(self, key):
        if key in self._data:
            return self._data[key]
        return self.__missing__(key)

    def __missing__(self, key):
        raise KeyError(key)

    def __setitem__(self, key, value):
        self._data[key] = value

    def __delitem__(self, key):
        del self._data[key]

    def __bool__(self):
        return len(self._data) > 0

    def keys(self):
        return self._data.keys()

    def values(self):
        return self._data.values()

    def items(self):
        return self._data.items()

    def get(self, key, default=None):
        return self._data.get(key, default)

    def pop(self, key, *default):
        return self._data.pop(key, *default)

    def setdefault(self, key, default=None):
        return self._data.setdefault(key, default)

    def clear(self):
        self._data.clear()

    def __eq__(self, other):
        if isinstance(other, _Mapping):
            return self._data == other._data
        return self._data == other

    def __ne__(self, other):
        return not self.__eq__(other)


class Counter(_Mapping):
    def __init__(self, iterable=None, /, **kwds):
        self._data = {}
        self.update(iterable, **kwds)

    def __missing__(self, key):
        return 0

    def total(self):
        return sum(self._data.values())

    def most_common(self, n=None):
        items = sorted(self._data.items(), key=lambda kv: kv[1], reverse=True)
        return items if n is None else items[:n]

    def elements(self):
        out = []
        for elem, count in self._data.items():
            for _ in range(count):
                out.append(elem)
        return iter(out)

    def _count(self, iterable, kwds, sign):
        if iterable is not None:
            if isinstance(iterable, (Counter, dict)):
                for elem, count in iterable.items():
                    self._data[elem] = self._data.get(elem, 0) + sign * count
            else:
                for elem in iterable:
                    self._data[elem] = self._data.get(elem, 0) + sign
        for elem, count in kwds.items():
            self._data[elem] = self._data.get(elem, 0) + sign * count

    def update(self, iterable=None, /, **kwds):
        self._count(iterable, kwds, 1)

    def subtract(self, iterable=None, /, **kwds):
        self._count(iterable, kwds, -1)

    def copy(self):
        return Counter(self)

    def __delitem__(self, key):
        if key in self._data:
            del self._data[key]

    def _combine(self, other, op):
        # CPython's multiset operations: `op` of the two counts, keeping positive
        # results, in self's order then other's.
        result = Counter()
        for elem, count in self._data.items():
            newcount = op(count, other[elem])
            if newcount > 0:
                result._data[elem] = newcount
        for elem, count in other.items():
            if elem not in self._data:
                newcount = op(0, count)
                if newcount > 0:
                    result._data[elem] = newcount
        return result

    def __add__(self, other):
        return self._combine(other, lambda a, b: a + b)

    def __sub__(self, other):
        return self._combine(other, lambda a, b: a - b)

    def __or__(self, other):
        return self._combine(other, max)

    def __and__(self, other):
        return self._combine(other, min)

    def __repr__(self):
        if not self._data:
            return "Counter()"
        return "Counter({" + ", ".join(f"{k!r}: {v!r}" for k, v in self.most_common()) + "})"


class defaultdict(_Mapping):
    def __init__(self, default_factory=None, *args, **kwargs):
        if default_factory is not None and not callable(default_factory):
            raise TypeError("first argument must be callable or None")
        self.default_factory = default_factory
        self._data = dict(*args, **kwargs)

    def __missing__(self, key):
        if self.default_factory is None:
            raise KeyError(key)
        value = self.default_factory()
        self._data[key] = value
        return value

    def copy(self):
        return defaultdict(self.default_factory, self._data)

    def update(self, *args, **kwargs):
        self._data.update(*args, **kwargs)

    def __repr__(self):
        factory = self.default_factory
        name = "None" if factory is None else repr(factory)
        return f"defaultdict({name}, {self._data!r})"


class deque:
    def __init__(self, iterable=(), maxlen=None):
        if maxlen is not None and maxlen < 0:
            raise ValueError("maxlen must be non-negative")
        self.maxlen = maxlen
        self._data = []
        for x in iterable:
            self.append(x)

    def append(self, x):
        self._data.append(x)
        if self.maxlen is not None and len(self._data) > self.maxlen:
            self._data.pop(0)

    def appendleft(self, x):
        self._data.insert(0, x)
        if self.maxlen is not None and len(self._data) > self.maxlen:
            self._data.pop()

    def extend(self, iterable):
        for x in iterable:
            self.append(x)

    def extendleft(self, iterable):
        for x in iterable:
            self.appendleft(x)

    def pop(self):
        if not self._data:
            raise IndexError("pop from an empty deque")
        return self._data.pop()

    def popleft(self):
        if not self._data:
            raise IndexError("pop from an empty deque")
        return self._data.pop(0)

    def rotate(self, n=1):
        if self._data:
            n = n % len(self._data)
            if n:
                self._data[:] = self._data[-n:] + self._data[:-n]

    def clear(self):
        self._data.clear()

    def count(self, x):
        return self._data.count(x)

    def index(self, x, *args):
        return self._data.index(x, *args)

    def remove(self, x):
        self._data.remove(x)

    def reverse(self):
        self._data.reverse()

    def copy(self):
        return deque(self._data, self.maxlen)

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return iter(self._data)

    def __reversed__(self):
        return reversed(self._data)

    def __getitem__(self, i):
        return self._data[i]

    def __setitem__(self, i, v):
        self._data[i] = v

    def __contains__(self, x):
        return x in self._data

    def __bool__(self):
        return len(self._data) > 0

    def __eq__(self, other):
        return isinstance(other, deque) and self._data == other._data

    def __repr__(self):
        if self.maxlen is None:
            return f"deque({self._data!r})"
        return f"deque({self._data!r}, maxlen={self.maxlen})"


def namedtuple(typename, field_names, *, rename=False, defaults=None, module=None):
    if isinstance(field_names, str):
        field_names = field_names.replace(",", " ").split()
    fields = tuple(str(f) for f in field_names)
    defaults = tuple(defaults) if defaults is not None else ()
    if len(defaults) > len(fields):
        raise TypeError("Got more default values than field names")
    first_default = len(fields) - len(defaults)

    class _NamedTuple:
        _fields = fields
        _field_defaults = {fields[first_default + i]: d for i, d in enumerate(defaults)}

        def __init__(self, *args, **kwargs):
            if len(args) > len(fields):
                raise TypeError(f"{typename}.__new__() takes {len(fields) + 1} positional arguments but {len(args) + 1} were given")
            values = list(args)
            for i in range(len(args), len(fields)):
                name = fields[i]
                if name in kwargs:
                    values.append(kwargs.pop(name))
                elif i >= first_default:
                    values.append(defaults[i - first_default])
                else:
                    raise TypeError(f"{typename}.__new__() missing 1 required positional argument: '{name}'")
            if kwargs:
                raise TypeError(f"{typename}.__new__() got an unexpected keyword argument '{next(iter(kwargs))}'")
            self.__dict__["_values"] = tuple(values)

        def __setattr__(self, name, value):
            raise AttributeError("can't set attribute")

        def __getitem__(self, i):
            return self._values[i]

        def __len__(self):
            return len(fields)

        def __iter__(self):
            return iter(self._values)

        def __eq__(self, other):
            if isinstance(other, _NamedTuple):
                return self._values == other._values
            return self._values == other

        def __hash__(self):
            return hash(self._values)

        def __repr__(self):
            return typename + "(" + ", ".join(f"{n}={v!r}" for n, v in zip(fields, self._values)) + ")"

        def _asdict(self):
            return dict(zip(fields, self._values))

        def _replace(self, **kwargs):
            values = [kwargs.pop(n, v) for n, v in zip(fields, self._values)]
            if kwargs:
                raise ValueError(f"Got unexpected field names: {list(kwargs)!r}")
            return type(self)(*values)

        def count(self, v):
            return self._values.count(v)

        def index(self, v):
            return self._values.index(v)

    for i, name in enumerate(fields):
        setattr(_NamedTuple, name, property(lambda self, i=i: self._values[i]))
    _NamedTuple.__name__ = typename
    _NamedTuple.__qualname__ = typename
    return _NamedTuple
