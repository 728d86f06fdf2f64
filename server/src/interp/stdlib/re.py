# re for intervention code, in the Python the interpreter runs: Pattern and Match objects,
# search/match/fullmatch/findall/finditer/sub/subn/split/escape with CPython's results,
# over the server's matching engine (`_localndif_re`: Python's pattern syntax on
# fancy-regex, spans in characters, backtracking bounded).

import _localndif_re as _engine

__all__ = ["compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn",
           "split", "escape", "error", "Pattern", "Match", "I", "IGNORECASE", "M",
           "MULTILINE", "S", "DOTALL", "X", "VERBOSE", "A", "ASCII", "U", "UNICODE"]

I = IGNORECASE = 2
M = MULTILINE = 8
S = DOTALL = 16
X = VERBOSE = 64
A = ASCII = 256
U = UNICODE = 32
NOFLAG = 0

_SPECIAL = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f"


class error(Exception):
    pass


class Match:
    def __init__(self, pattern, string, spans, pos, endpos):
        self.re = pattern
        self.string = string
        self._spans = spans
        self.pos = pos
        self.endpos = endpos
        last = None
        for i in range(1, len(spans)):
            if spans[i] is not None:
                if last is None or spans[i][1] >= spans[last][1]:
                    last = i
        self.lastindex = last
        self.lastgroup = None
        if last is not None:
            for name, i in pattern.groupindex.items():
                if i == last:
                    self.lastgroup = name

    def _index(self, g):
        if isinstance(g, str):
            if g not in self.re.groupindex:
                raise IndexError("no such group")
            return self.re.groupindex[g]
        if not isinstance(g, int) or g < 0 or g >= len(self._spans):
            raise IndexError("no such group")
        return g

    def _get(self, g, default=None):
        span = self._spans[self._index(g)]
        if span is None:
            return default
        return self.string[span[0]:span[1]]

    def group(self, *groups):
        if not groups:
            return self._get(0)
        if len(groups) == 1:
            return self._get(groups[0])
        return tuple(self._get(g) for g in groups)

    def __getitem__(self, g):
        return self._get(g)

    def groups(self, default=None):
        return tuple(self._get(i, default) for i in range(1, len(self._spans)))

    def groupdict(self, default=None):
        return {name: self._get(i, default) for name, i in self.re.groupindex.items()}

    def span(self, group=0):
        span = self._spans[self._index(group)]
        return (-1, -1) if span is None else (span[0], span[1])

    def start(self, group=0):
        return self.span(group)[0]

    def end(self, group=0):
        return self.span(group)[1]

    def expand(self, template):
        return _expand(template, self)

    def __bool__(self):
        return True

    def __repr__(self):
        return f"<re.Match object; span={self.span()!r}, match={self.group(0)!r}>"


def _expand(template, m):
    out = []
    i = 0
    n = len(template)
    simple = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "b": "\b", "\\": "\\"}
    while i < n:
        c = template[i]
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        e = template[i + 1]
        if e == "g":
            close = template.find(">", i)
            if i + 2 >= n or template[i + 2] != "<" or close < 0:
                raise error("missing <")
            name = template[i + 3:close]
            g = int(name) if name.isdigit() else name
            out.append(m._get(g, ""))
            i = close + 1
        elif e.isdigit():
            j = i + 1
            while j < n and j < i + 3 and template[j].isdigit():
                j += 1
            out.append(m._get(int(template[i + 1:j]), ""))
            i = j
        elif e in simple:
            out.append(simple[e])
            i += 2
        elif e.isascii() and e.isalpha():
            raise error(f"bad escape \\{e} at position {i}")
        else:
            out.append("\\" + e)
            i += 2
    return "".join(out)


class Pattern:
    def __init__(self, pattern, flags):
        self.pattern = pattern
        self.flags = flags | UNICODE if isinstance(pattern, str) and not flags & ASCII else flags
        self._flags = flags
        try:
            self.groups, self.groupindex = _engine.info(pattern, flags)
        except ValueError as e:
            raise error(str(e)[len("re.error: "):] if str(e).startswith("re.error: ") else str(e))

    def _search(self, string, pos, endpos):
        if not isinstance(string, str):
            raise TypeError(f"expected string or bytes-like object, got '{type(string).__name__}'")
        n = len(string)
        if pos < 0:
            pos = 0
        if endpos is None or endpos > n:
            endpos = n
        if pos > endpos:
            return None
        spans = _engine.search(self.pattern, self._flags, string, pos, endpos)
        if spans is None:
            return None
        return Match(self, string, spans, pos, endpos)

    def search(self, string, pos=0, endpos=None):
        return self._search(string, pos, endpos)

    def match(self, string, pos=0, endpos=None):
        m = self._search(string, pos, endpos)
        if m is None or m.start() != max(pos, 0):
            return None
        return m

    def fullmatch(self, string, pos=0, endpos=None):
        whole = Pattern("(?:" + self.pattern + r")\Z", self._flags)
        m = whole._search(string, pos, endpos)
        if m is None or m.start() != max(pos, 0):
            return None
        m.re = self
        return m

    def _iter(self, string, pos=0, endpos=None):
        # CPython 3.7+: an empty match may follow a non-empty one at the same place, but
        # the search after an empty match must advance.
        out = []
        n = len(string) if endpos is None else min(endpos, len(string))
        prev_empty = -1
        while pos <= n:
            m = self._search(string, pos, endpos)
            if m is None:
                break
            s, e = m.span()
            if s == e and s == prev_empty:
                pos = s + 1
                continue
            out.append(m)
            prev_empty = e if s == e else -1
            pos = e
        return out

    def finditer(self, string, pos=0, endpos=None):
        return iter(self._iter(string, pos, endpos))

    def findall(self, string, pos=0, endpos=None):
        out = []
        for m in self._iter(string, pos, endpos):
            if self.groups == 0:
                out.append(m.group(0))
            elif self.groups == 1:
                out.append(m._get(1, ""))
            else:
                out.append(m.groups(""))
        return out

    def subn(self, repl, string, count=0):
        out = []
        last = 0
        done = 0
        for m in self._iter(string):
            if count and done >= count:
                break
            s, e = m.span()
            out.append(string[last:s])
            out.append(repl(m) if callable(repl) else _expand(repl, m))
            last = e
            done += 1
        out.append(string[last:])
        return "".join(out), done

    def sub(self, repl, string, count=0):
        return self.subn(repl, string, count)[0]

    def split(self, string, maxsplit=0):
        out = []
        last = 0
        done = 0
        for m in self._iter(string):
            if maxsplit and done >= maxsplit:
                break
            s, e = m.span()
            out.append(string[last:s])
            out.extend(m.groups())
            last = e
            done += 1
        out.append(string[last:])
        return out

    def __repr__(self):
        return f"re.compile({self.pattern!r})" if not self._flags else f"re.compile({self.pattern!r}, {self._flags})"

    def __eq__(self, other):
        return isinstance(other, Pattern) and self.pattern == other.pattern and self._flags == other._flags

    def __hash__(self):
        return hash((self.pattern, self._flags))


def compile(pattern, flags=0):
    if isinstance(pattern, Pattern):
        return pattern
    return Pattern(pattern, flags)


def search(pattern, string, flags=0):
    return compile(pattern, flags).search(string)


def match(pattern, string, flags=0):
    return compile(pattern, flags).match(string)


def fullmatch(pattern, string, flags=0):
    return compile(pattern, flags).fullmatch(string)


def findall(pattern, string, flags=0):
    return compile(pattern, flags).findall(string)


def finditer(pattern, string, flags=0):
    return compile(pattern, flags).finditer(string)


def sub(pattern, repl, string, count=0, flags=0):
    return compile(pattern, flags).sub(repl, string, count)


def subn(pattern, repl, string, count=0, flags=0):
    return compile(pattern, flags).subn(repl, string, count)


def split(pattern, string, maxsplit=0, flags=0):
    return compile(pattern, flags).split(string, maxsplit)


def escape(pattern):
    return "".join("\\" + c if c in _SPECIAL else c for c in pattern)
