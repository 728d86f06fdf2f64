"""21.9 string methods"""

import nnsight
import torch

PROMPT = "The Eiffel Tower is in the city of"


def run(model, remote):
    with model.trace(PROMPT, remote=remote):
        s = "  The Eiffel Tower  "
        a = nnsight.save([s.strip(), s.lstrip(), s.rstrip(), s.split(), "a,b,,c".split(","), "a b c".split(" ", 1),
                          s.replace("e", "E"), s.upper(), s.lower(), s.strip().startswith("The"), s.endswith("  "),
                          s.find("Tower"), s.find("x"), s.count("e"), "-".join(["x", "y"]), "Tower".center(9, "*"),
                          "abc".zfill(5), "Hello World".title(), "hello".capitalize(), "a1".isalnum(), "12".isdigit(),
                          "line1\nline2".splitlines(), "x".ljust(3, "."), "x".rjust(3), "aXbX".rsplit("X", 1), "  ".isspace(),
                          "ab".partition("b"), "Hello".swapcase(), "abc".index("c"), "tower".removeprefix("to")])
    return {"a": a}
