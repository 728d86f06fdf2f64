"""Generate the augmented-assignment differential corpus: conformance/cases/45_augmented/.

Every augmented assignment operator (`+= -= *= /= //= %= **= @= &= |= ^= <<= >>=`) crossed
with every kind of live target a traced block can edit in place:

    whole   T1  a whole activation bound to a name        h = blk.output; h OP= R
    view    T2  a basic-index view, in place               blk.output[:, -1] OP= R
    advidx  T3  an advanced index                          blk.output[:, [0, 2]] OP= R
    mask    T4  a boolean mask                             h[h > 0] OP= R
    attn    T5  a tuple element of a module's output       a = att.output[0]; a OP= R
    input   T6  a module's .input                          x = blk.input; x OP= R
    inputs  T7  a module's .inputs                         x = blk.inputs[0][0]; x OP= R
    ids     T8  the integer token ids entering the embedding (bitwise and integer arithmetic,
                masked where needed so that ids stay inside the vocabulary of 1000)

Each case file holds ONE trace doing ONE augmented assignment, then saves the edited value
(where there is one to save) and the logits. Float targets get float right-hand sides that
keep values finite and visibly change the logits; bitwise operators on float targets are
error cases (the server must raise what local nnsight raises). `Tensor` has no
`__imatmul__` (torch 2.13), so `x @= M` rebinds `x` to `x @ M` and leaves a bound activation
unedited, while `blk.output[...] @= M` writes back through `__setitem__`: the corpus encodes
the Python semantics as written and the local oracle decides what is right.

Cases are written for every architecture: envoys are bound before the trace with
`nnsight_case`'s per-architecture helpers (`blocks`, `embed`), and the attention module
(GPT-2's `attn`, the Llama family's `self_attn`) through a helper in the case file.

Usage (stdlib only; idempotent — stale 45.* files are deleted first):

    .venv/bin/python python/aug_corpus.py
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "conformance", "cases", "45_augmented")
SPEC = "semantics.md §2.4 In-place edits"
PROMPT = "The Eiffel Tower is in the city of"

# operator -> name used in the file name
OPS = {
    "+=": "iadd",
    "-=": "isub",
    "*=": "imul",
    "/=": "itruediv",
    "//=": "ifloordiv",
    "%=": "imod",
    "**=": "ipow",
    "@=": "imatmul",
    "&=": "iand",
    "|=": "ior",
    "^=": "ixor",
    "<<=": "ilshift",
    ">>=": "irshift",
}
FLOAT_OPS = ["+=", "-=", "*=", "/=", "//=", "%=", "**=", "@="]
BITWISE_OPS = ["&=", "|=", "^=", "<<=", ">>="]

# Float right-hand sides, as functions of an expression for the edited value's last width.
# A final LayerNorm / RMSNorm removes a uniform shift and (up to eps) a uniform scale, so
# `+=`, `-=`, `/=` use a per-feature vector (a scalar would leave the logits unchanged within
# tolerance, and a server dropping the edit would pass); `@=` a flipped half identity.
FLOAT_RHS = {
    "+=": lambda w: f"torch.arange({w}) * 0.1",
    "-=": lambda w: f"torch.arange({w}) * 0.05",
    "*=": lambda w: "-2.0",
    "/=": lambda w: f"torch.arange(1, {w} + 1) * 0.25",
    "//=": lambda w: "0.5",
    "%=": lambda w: "0.3",
    "**=": lambda w: "2",
    "@=": lambda w: f"torch.eye({w}).flip(0) * 0.5",
}
# Bitwise right-hand sides for the error cases on float targets.
BITWISE_RHS = {"&=": "1", "|=": "1", "^=": "1", "<<=": "1", ">>=": "1"}

ATTN_HELPER = '''

def attn_of(block):
    """The attention module of a decoder block: GPT-2's `attn`, the Llama family's `self_attn`,
    GPT-NeoX's `attention` (each returns a tuple whose element 0 is the attention output)."""
    for name in ("attn", "self_attn", "attention"):
        try:
            return getattr(block, name)
        except AttributeError:
            continue
    raise AttributeError(f"no attention module in {type(block).__name__}: tried attn, self_attn, attention")
'''


class Case:
    def __init__(self, op: str, target: str, title: str, setup: list[str], body: list[str],
                 saves: list[tuple[str, str]], uses: set[str], error: bool = False):
        self.op, self.target, self.title = op, target, title
        self.setup, self.body, self.saves = setup, body, saves
        self.uses, self.error = uses, error


def float_cases() -> list[Case]:
    """T1–T7: float targets."""
    cases: list[Case] = []
    blk = ["blk = blocks(model)[1]"]
    for op in FLOAT_OPS:
        rhs_w = FLOAT_RHS[op]
        # T1 whole activation bound to a name
        cases.append(Case(op, "whole", f"{op} on a whole block output bound to a name",
                          blk, ["h = blk.output", f"h {op} {rhs_w('h.shape[-1]')}"],
                          [("edited", "h")], {"blocks"}))
        # T2 basic-index view
        cases.append(Case(op, "view", f"{op} on a basic-index view of a block output",
                          blk, [f"blk.output[:, -1] {op} {rhs_w('blk.output.shape[-1]')}"],
                          [("edited", "blk.output")], {"blocks"}))
        # T3 advanced index
        cases.append(Case(op, "advidx", f"{op} on an advanced index of a block output",
                          blk, [f"blk.output[:, [0, 2]] {op} {rhs_w('blk.output.shape[-1]')}"],
                          [("edited", "blk.output")], {"blocks"}))
        # T4 boolean mask: the selection is 1-D, so its width is the number of selected
        # elements (a per-feature vector of that length; @= a square matrix of it)
        mask_rhs = rhs_w("int((h > 0).sum())")
        cases.append(Case(op, "mask", f"{op} on a boolean-masked block output",
                          blk, ["h = blk.output", f"h[h > 0] {op} {mask_rhs}"],
                          [("edited", "h")], {"blocks"}))
        # T5 tuple element of the attention module's output
        cases.append(Case(op, "attn", f"{op} on element 0 of the attention module's tuple output",
                          ["att = attn_of(blocks(model)[1])"],
                          ["a = att.output[0]", f"a {op} {rhs_w('a.shape[-1]')}"],
                          [("edited", "a")], {"blocks", "attn"}))
        # T6 .input
        cases.append(Case(op, "input", f"{op} on a block's .input",
                          blk, ["x = blk.input", f"x {op} {rhs_w('x.shape[-1]')}"],
                          [("edited", "x")], {"blocks"}))
        # T7 .inputs
        cases.append(Case(op, "inputs", f"{op} on a block's .inputs[0][0]",
                          blk, ["x = blk.inputs[0][0]", f"x {op} {rhs_w('x.shape[-1]')}"],
                          [("edited", "x")], {"blocks"}))
    # Bitwise operators on float targets: error cases (T1 all, T2 and T5 some).
    for op in BITWISE_OPS:
        cases.append(Case(op, "whole", f"{op} on a float block output is an error",
                          blk, ["h = blk.output", f"h {op} {BITWISE_RHS[op]}"],
                          [("edited", "h")], {"blocks"}, error=True))
    for op in ("&=", "<<="):
        cases.append(Case(op, "view", f"{op} on a view of a float block output is an error",
                          blk, [f"blk.output[:, -1] {op} {BITWISE_RHS[op]}"],
                          [("edited", "blk.output")], {"blocks"}, error=True))
    for op in ("|=", ">>="):
        cases.append(Case(op, "attn", f"{op} on the float attention output is an error",
                          ["att = attn_of(blocks(model)[1])"],
                          ["a = att.output[0]", f"a {op} {BITWISE_RHS[op]}"],
                          [("edited", "a")], {"blocks", "attn"}, error=True))
    return cases


# T8: integer token ids (vocabulary 1000; the prompt's ids lie in 259..616 on both fixtures).
ID_EDITS = [
    ("+=", "ids", "ids += 7", "+= on the token ids entering the embedding"),
    ("-=", "ids", "ids -= 200", "-= on the token ids entering the embedding"),
    ("*=", "ids_mask", "ids[ids < 500] *= 2", "*= on the token ids below 500"),
    ("/=", "ids", "ids /= 2", "/= on integer token ids is an error (float result into a long tensor)"),
    ("//=", "ids", "ids //= 3", "//= on the token ids entering the embedding"),
    ("%=", "ids", "ids %= 97", "%= on the token ids entering the embedding"),
    ("**=", "ids_mask", "ids[ids > 600] **= 0", "**= 0 on the token ids above 600"),
    ("@=", "ids", "ids @= torch.eye(ids.shape[-1], dtype=torch.long)",
     "@= on the token ids (rebinds: Tensor has no __imatmul__)"),
    ("&=", "ids", "ids &= 255", "&= on the token ids entering the embedding"),
    ("|=", "ids", "ids |= 1", "|= on the token ids entering the embedding"),
    ("^=", "ids", "ids ^= 5", "^= on the token ids entering the embedding"),
    ("<<=", "ids_mask", "ids[ids < 500] <<= 1", "<<= on the token ids below 500"),
    (">>=", "ids", "ids >>= 1", ">>= on the token ids entering the embedding"),
]


def id_cases() -> list[Case]:
    return [
        Case(op, target, title, ["emb = embed(model)"], ["ids = emb.input", line],
             [("edited", "ids")], {"embed"}, error=(op == "/="))
        for op, target, line, title in ID_EDITS
    ]


def render(n: int, case: Case) -> str:
    helpers = sorted(h for h in case.uses if h in ("blocks", "embed"))
    imports = "from nnsight_case import " + ", ".join(helpers)
    lines = [
        f'"""45.{n} {case.title}"""',
        "",
        "# Generated by python/aug_corpus.py: do not edit; change the generator and re-run it.",
        "",
        "import nnsight",
        "import torch",
        "",
        imports,
        "",
        f'SPEC = "{SPEC}"',
        "",
        f'PROMPT = "{PROMPT}"',
    ]
    if case.error:
        # torch refuses the operator on this dtype: the block raises, as it does locally.
        lines.append(f'EXPECT_ERROR = "{"RuntimeError" if case.op == "/=" else "NotImplementedError"}"')
    if "attn" in case.uses:
        lines.append(ATTN_HELPER.rstrip("\n"))
    lines += ["", "", "def run(model, remote):"]
    lines += [f"    {s}" for s in case.setup]
    lines.append("    with model.trace(PROMPT, remote=remote):")
    lines += [f"        {s}" for s in case.body]
    names = []
    for name, expr in case.saves:
        lines.append(f"        {name} = nnsight.save({expr})")
        names.append(name)
    lines.append("        logits = nnsight.save(model.lm_head.output)")
    names.append("logits")
    lines.append("    return {" + ", ".join(f'"{k}": {k}' for k in names) + "}")
    return "\n".join(lines) + "\n"


def main() -> int:
    cases = float_cases() + id_cases()
    os.makedirs(OUT_DIR, exist_ok=True)
    for name in os.listdir(OUT_DIR):
        if name.startswith("45."):
            os.remove(os.path.join(OUT_DIR, name))
    for n, case in enumerate(cases, 1):
        fname = f"45.{n}_{OPS[case.op]}_{case.target}.py"
        with open(os.path.join(OUT_DIR, fname), "w") as f:
            f.write(render(n, case))
    print(f"wrote {len(cases)} cases to {os.path.relpath(OUT_DIR, ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
