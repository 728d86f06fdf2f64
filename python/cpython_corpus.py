"""Records CPython's answers for the interpreter's differential tests (`make fixtures`).

Writes, next to this repository's other fixtures:

* fixtures/cpython/expressions.jsonl — random arithmetic, comparison, indexing and builtin
  expressions (seeded, so the file is reproducible), each with `repr()` of CPython's
  value or `Type: message` of the exception it raised;
* fixtures/cpython/programs.jsonl — the small programs of python/cpython_programs.py, each
  with what CPython printed or the `Type: message` line it ended with.

The Rust tests (server/src/interp/tests.rs) evaluate the same text with localndif's
interpreter and require the same answers. Standard library only; run with the pinned
interpreter (.venv/bin/python) so the answers are CPython 3.11's.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "cpython")
N_EXPRESSIONS = 4000
SEED = 20261130

INTS = ["0", "1", "-1", "2", "3", "-7", "10", "255", "-128", "2**63", "-2**63", "2**64 - 1", "10**20", "-(3**41)", "True", "False"]
FLOATS = ["0.0", "-0.0", "0.5", "-2.25", "0.1", "1e300", "-1e-300", "3.75", "1e16", "2.5", "float('inf')", "-float('inf')", "7.0"]
STRS = ["''", "'a'", "'ab'", "'Hello'", "'héllo'", "'a,b,c'", "' x '"]
SEQS = ["[1, 2, 3]", "[]", "(1, 'a', 2.5)", "()", "[[1], [2, 3]]", "(4,)", "'abcdef'", "[3, 1, 2]", "range(5)", "range(1, 10, 3)"]
DICTS = ["{'a': 1, 'b': 2}", "{}", "{1: 'x', 2: 'y'}"]
SETS = ["{1, 2, 3}", "set()", "frozenset({2, 4})"]

BINOPS = ["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^"]
CMPOPS = ["==", "!=", "<", "<=", ">", ">=", "in", "not in"]


def number(rng: random.Random) -> str:
    return rng.choice(INTS if rng.random() < 0.6 else FLOATS)


def expr(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if depth > 2 or r < 0.25:
        pool = rng.choice([INTS, INTS, FLOATS, STRS, SEQS, DICTS, SETS])
        return rng.choice(pool)
    if r < 0.5:
        op = rng.choice(BINOPS)
        if rng.random() < 0.7:
            # Mostly numbers, so most expressions compute something.
            a = number(rng) if rng.random() < 0.5 else expr(rng, depth + 1)
            b = number(rng)
        else:
            a, b = expr(rng, depth + 1), expr(rng, depth + 1)
        if op == "**":
            b = rng.choice(["0", "1", "2", "3", "-1", "0.5", "-2", "10"])
        if op in ("<<", ">>"):
            b = rng.choice(["0", "1", "3", "64", "-1", "70"])
        return f"({a} {op} {b})"
    if r < 0.62:
        op = rng.choice(CMPOPS)
        return f"({expr(rng, depth + 1)} {op} {expr(rng, depth + 1)})"
    if r < 0.68:
        return f"({rng.choice(['-', '+', '~', 'not '])}{expr(rng, depth + 1)})"
    if r < 0.8:
        seq = rng.choice(SEQS + STRS)
        if rng.random() < 0.5:
            return f"{seq}[{rng.choice(['0', '1', '-1', '2', '5', '-3', 'True'])}]"
        parts = [rng.choice(["", "0", "1", "-1", "2", "-2", "10"]) for _ in range(2)]
        step = rng.choice(["", "", ":1", ":2", ":-1", ":-2", ":0"])
        return f"{seq}[{parts[0]}:{parts[1]}{step}]"
    fn = rng.choice(["abs", "round", "divmod", "pow", "min", "max", "int", "float", "str", "repr", "len",
                     "sorted", "bool", "list", "tuple", "sum", "any", "all", "hex", "oct", "bin", "chr", "ord"])
    if fn == "divmod":
        return f"divmod({number(rng)}, {number(rng)})"
    if fn == "pow":
        return f"pow({number(rng)}, {rng.choice(['0', '2', '3', '-1', '0.5', '-2'])}{rng.choice(['', '', ', 7', ', 10**9 + 7'])})"
    if fn == "round":
        return f"round({number(rng)}{rng.choice(['', ', 0', ', 1', ', -1', ', 2'])})"
    if fn in ("min", "max"):
        return f"{fn}({rng.choice(SEQS + STRS)})"
    if fn in ("hex", "oct", "bin", "chr"):
        return f"{fn}({rng.choice(INTS)})"
    if fn == "ord":
        return f"ord({rng.choice(STRS)})"
    return f"{fn}({expr(rng, depth + 1)})"


def answer(text: str) -> str | None:
    """CPython's answer, or None for an expression not worth recording (it needs more
    memory than the test allows, or more than localndif's default limits)."""
    signal.alarm(2)
    try:
        v = eval(text, {"__builtins__": __builtins__})
        out = repr(v)
    except (MemoryError, TimeoutError):
        return None
    except Exception as e:  # noqa: BLE001 - the answer
        msg = str(e)
        return f"!{type(e).__name__}: {msg}" if msg else f"!{type(e).__name__}"
    finally:
        signal.alarm(0)
    return out


def expressions() -> list[dict]:
    rng = random.Random(SEED)
    seen, out = set(), []
    while len(out) < N_EXPRESSIONS:
        text = expr(rng)
        if text in seen:
            continue
        seen.add(text)
        ans = answer(text)
        # localndif has no complex numbers (intervention code does not use them).
        if ans is None or len(ans) > 500 or "complex" in ans or "j)" in ans:
            continue
        # Only values whose repr is the same in every run (no sets of str, no ids).
        if "at 0x" in ans or ("{" in ans and "'" in ans and "set" in text):
            continue
        out.append({"expr": text, "answer": ans})
    return out


def programs() -> list[dict]:
    sys.path.insert(0, HERE)
    from cpython_programs import PROGRAMS

    out = []
    for name, src in PROGRAMS:
        buf = io.StringIO()
        error = None
        with contextlib.redirect_stdout(buf):
            try:
                exec(compile(src, f"<{name}>", "exec"), {"__name__": "__main__"})
            except Exception as e:  # noqa: BLE001 - the answer
                msg = str(e)
                error = f"{type(e).__name__}: {msg}" if msg else type(e).__name__
        out.append({"name": name, "src": src, "stdout": buf.getvalue(), "error": error})
    return out


def write(name: str, rows: list[dict]) -> None:
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows -> {os.path.relpath(path)}", file=sys.stderr)


if __name__ == "__main__":
    import resource

    # A random expression can ask for gigabytes ('ab' * 255 * 255 * 255 * 255): make that a
    # MemoryError, which is skipped, rather than the machine's problem.
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    def too_slow(*_):
        raise TimeoutError

    signal.signal(signal.SIGALRM, too_slow)
    write("expressions.jsonl", expressions())
    write("programs.jsonl", programs())
