# json for intervention code, in the Python the interpreter runs: dumps/loads (and
# dump/load refuse: there are no files) with CPython's output for the same arguments —
# separators, indent, sort_keys, ensure_ascii, allow_nan, default — and its errors.

__all__ = ["dumps", "loads", "JSONDecodeError"]

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_HEX = "0123456789abcdef"


class JSONDecodeError(ValueError):
    def __init__(self, msg, doc, pos):
        lineno = doc.count("\n", 0, pos) + 1
        colno = pos - doc.rfind("\n", 0, pos)
        super().__init__(f"{msg}: line {lineno} column {colno} (char {pos})")
        self.msg = msg
        self.doc = doc
        self.pos = pos
        self.lineno = lineno
        self.colno = colno


def _u(n):
    return "\\u" + _HEX[(n >> 12) & 15] + _HEX[(n >> 8) & 15] + _HEX[(n >> 4) & 15] + _HEX[n & 15]


def _string(s, ensure_ascii):
    out = ['"']
    for ch in s:
        e = _ESCAPES.get(ch)
        if e is not None:
            out.append(e)
            continue
        n = ord(ch)
        if n < 0x20:
            out.append(_u(n))
        elif ensure_ascii and n > 0x7E:
            if n > 0xFFFF:
                n -= 0x10000
                out.append(_u(0xD800 | ((n >> 10) & 0x3FF)))
                out.append(_u(0xDC00 | (n & 0x3FF)))
            else:
                out.append(_u(n))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _float(f, allow_nan):
    if f != f:
        text = "NaN"
    elif f == float("inf"):
        text = "Infinity"
    elif f == float("-inf"):
        text = "-Infinity"
    else:
        return repr(f)
    if not allow_nan:
        raise ValueError("Out of range float values are not JSON compliant: " + repr(f))
    return text


def _key(k, ensure_ascii, allow_nan, skipkeys):
    if isinstance(k, str):
        return k
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, float):
        return _float(k, allow_nan)
    if isinstance(k, int):
        return repr(k)
    if skipkeys:
        return None
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")


def dumps(obj, *, skipkeys=False, ensure_ascii=True, check_circular=True, allow_nan=True,
          cls=None, indent=None, separators=None, default=None, sort_keys=False, **kw):
    if indent is not None and not isinstance(indent, str):
        indent = " " * indent
    if separators is not None:
        item_sep, key_sep = separators
    elif indent is not None:
        item_sep, key_sep = ",", ": "
    else:
        item_sep, key_sep = ", ", ": "
    parts = []
    seen = []

    def container(o, level, brackets, items):
        """A list or dict: its brackets around `items(separator)`, each item on a line of
        its own under `indent`; a container met again inside itself is refused."""
        for s in seen:
            if s is o:
                raise ValueError("Circular reference detected")
        if not o:
            parts.append(brackets)
            return
        seen.append(o)
        parts.append(brackets[0])
        if indent is not None:
            inner = "\n" + indent * (level + 1)
            parts.append(inner)
            items(item_sep + inner)
            parts.append("\n" + indent * level)
        else:
            items(item_sep)
        parts.append(brackets[1])
        seen.pop()

    def enc(o, level):
        if isinstance(o, str):
            parts.append(_string(o, ensure_ascii))
        elif o is None:
            parts.append("null")
        elif o is True:
            parts.append("true")
        elif o is False:
            parts.append("false")
        elif isinstance(o, int):
            parts.append(repr(int(o)))
        elif isinstance(o, float):
            parts.append(_float(o, allow_nan))
        elif isinstance(o, (list, tuple)):
            def items(sep):
                first = True
                for v in o:
                    if not first:
                        parts.append(sep)
                    first = False
                    enc(v, level + 1)

            container(o, level, "[]", items)
        elif isinstance(o, dict):
            def items(sep):
                pairs = list(o.items())
                if sort_keys:
                    pairs = sorted(pairs, key=lambda kv: kv[0])
                first = True
                for k, v in pairs:
                    key = _key(k, ensure_ascii, allow_nan, skipkeys)
                    if key is None:
                        continue
                    if not first:
                        parts.append(sep)
                    first = False
                    parts.append(_string(key, ensure_ascii))
                    parts.append(key_sep)
                    enc(v, level + 1)

            container(o, level, "{}", items)
        elif default is not None:
            enc(default(o), level)
        else:
            raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

    enc(obj, 0)
    return "".join(parts)


_WS = " \t\n\r"
_UNESCAPE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_NUMBER_START = "-0123456789"
_DIGITS = "0123456789"


def loads(s, *, cls=None, object_hook=None, parse_float=None, parse_int=None,
          parse_constant=None, object_pairs_hook=None, **kw):
    if isinstance(s, bytes):
        s = s.decode("utf-8")
    if not isinstance(s, str):
        raise TypeError(f"the JSON object must be str, bytes or bytearray, not {type(s).__name__}")
    n = len(s)

    def skip(i):
        while i < n and s[i] in _WS:
            i += 1
        return i

    def value(i):
        if i >= n:
            raise JSONDecodeError("Expecting value", s, i)
        c = s[i]
        if c == '"':
            return string(i + 1)
        if c == "{":
            return obj(i + 1)
        if c == "[":
            return arr(i + 1)
        if c == "n" and s[i:i + 4] == "null":
            return None, i + 4
        if c == "t" and s[i:i + 4] == "true":
            return True, i + 4
        if c == "f" and s[i:i + 5] == "false":
            return False, i + 5
        if c == "N" and s[i:i + 3] == "NaN":
            return float("nan"), i + 3
        if c == "I" and s[i:i + 8] == "Infinity":
            return float("inf"), i + 8
        if c == "-" and s[i:i + 9] == "-Infinity":
            return float("-inf"), i + 9
        if c in _NUMBER_START:
            return number(i)
        raise JSONDecodeError("Expecting value", s, i)

    def number(i):
        start = i
        if s[i] == "-":
            i += 1
        if i < n and s[i] == "0":
            i += 1
        elif i < n and s[i] in _DIGITS:
            while i < n and s[i] in _DIGITS:
                i += 1
        else:
            raise JSONDecodeError("Expecting value", s, start)
        is_float = False
        if i < n and s[i] == "." and i + 1 < n and s[i + 1] in _DIGITS:
            is_float = True
            i += 1
            while i < n and s[i] in _DIGITS:
                i += 1
        if i < n and s[i] in "eE":
            j = i + 1
            if j < n and s[j] in "+-":
                j += 1
            if j < n and s[j] in _DIGITS:
                is_float = True
                i = j
                while i < n and s[i] in _DIGITS:
                    i += 1
        text = s[start:i]
        if is_float:
            return (parse_float(text) if parse_float is not None else float(text)), i
        return (parse_int(text) if parse_int is not None else int(text)), i

    def string(i):
        out = []
        start = i - 1
        while True:
            if i >= n:
                raise JSONDecodeError("Unterminated string starting at", s, start)
            c = s[i]
            if c == '"':
                return "".join(out), i + 1
            if c == "\\":
                i += 1
                if i >= n:
                    raise JSONDecodeError("Unterminated string starting at", s, start)
                e = s[i]
                if e == "u":
                    hexa = s[i + 1:i + 5]
                    if len(hexa) != 4 or any(h not in "0123456789abcdefABCDEF" for h in hexa):
                        raise JSONDecodeError("Invalid \\uXXXX escape", s, i - 1)
                    code = int(hexa, 16)
                    i += 5
                    if 0xD800 <= code <= 0xDBFF and s[i:i + 2] == "\\u":
                        low = int(s[i + 2:i + 6], 16)
                        if 0xDC00 <= low <= 0xDFFF:
                            code = 0x10000 + (((code - 0xD800) << 10) | (low - 0xDC00))
                            i += 6
                    out.append(chr(code))
                    continue
                if e not in _UNESCAPE:
                    raise JSONDecodeError("Invalid \\escape", s, i - 1)
                out.append(_UNESCAPE[e])
                i += 1
                continue
            if ord(c) < 0x20:
                raise JSONDecodeError("Invalid control character at", s, i)
            out.append(c)
            i += 1

    def obj(i):
        pairs = []
        i = skip(i)
        if i < n and s[i] == "}":
            return finish(pairs), i + 1
        while True:
            if i >= n or s[i] != '"':
                raise JSONDecodeError("Expecting property name enclosed in double quotes", s, i)
            key, i = string(i + 1)
            i = skip(i)
            if i >= n or s[i] != ":":
                raise JSONDecodeError("Expecting ':' delimiter", s, i)
            i = skip(i + 1)
            v, i = value(i)
            pairs.append((key, v))
            i = skip(i)
            if i < n and s[i] == "}":
                return finish(pairs), i + 1
            if i >= n or s[i] != ",":
                raise JSONDecodeError("Expecting ',' delimiter", s, i)
            i = skip(i + 1)

    def finish(pairs):
        if object_pairs_hook is not None:
            return object_pairs_hook(pairs)
        d = dict(pairs)
        if object_hook is not None:
            return object_hook(d)
        return d

    def arr(i):
        out = []
        i = skip(i)
        if i < n and s[i] == "]":
            return out, i + 1
        while True:
            v, i = value(skip(i))
            out.append(v)
            i = skip(i)
            if i < n and s[i] == "]":
                return out, i + 1
            if i >= n or s[i] != ",":
                raise JSONDecodeError("Expecting ',' delimiter", s, i)
            i += 1

    v, end = value(skip(0))
    end = skip(end)
    if end != n:
        raise JSONDecodeError("Extra data", s, end)
    return v
