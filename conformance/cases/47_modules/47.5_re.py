"""47.5 re in a trace: search, match, fullmatch, findall, finditer, sub with templates and functions, split, groups and flags"""

import re

import nnsight

PROMPT = "The Eiffel Tower is in the city of"
SPEC = "semantics.md §1.3 Three kinds of body"
WORD = re.compile(r"(?P<first>\w)(\w*)")


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        n = int(model.transformer.h[0].output.shape[1])
        text = f"layer 0: {n} tokens; layer 12: 99 tokens. Eiffel é tower"
        m = re.search(r"layer (\d+): (\d+)", text)
        nums = re.findall(r"\d+", text)
        pairs = re.findall(r"layer (\d+): (\d+)", text)
        words = [w.group("first") + "|" + w.group(2) for w in WORD.finditer(text)]
        spans = [x.span() for x in re.finditer(r"\w*", "ab cd")]
        out = nnsight.save({
            "m": (m.group(0), m.group(1, 2), m.groups(), m.span(2), m.start(), m.end(1), m[1], m.lastindex),
            "gd": WORD.match("Tower x").groupdict(),
            "nums": nums, "pairs": pairs, "words": words, "spans": spans,
            "none": re.match(r"\d", text) is None,
            "full": [bool(re.fullmatch(r"[a-z ]+", "eiffel tower")), re.fullmatch(r"a|ab", "ab").group()],
            "sub": re.sub(r"(\d+)", r"<\1>", text),
            "subg": re.sub(r"(?P<n>\d+)", r"\g<n>\g<0>", text, count=1),
            "subf": re.sub(r"\d+", lambda mm: str(int(mm.group()) * 2), text),
            "subn": re.subn(r"o", "0", text),
            "split": re.split(r"[;.:]\s*", text),
            "splitg": re.split(r"(\d+)", "a1b22c", maxsplit=1),
            "flags": [re.findall(r"^l\w+", "Layer\nlayer", re.I | re.M), re.findall(r"a.b", "a\nb", re.S)],
            "esc": re.escape("a.b*c (d)"),
            "repr": [repr(re.compile(r"\d+")), repr(m)],
            "unicode": re.findall(r"\w+", "é tower"),
        })
    return {"out": out}
