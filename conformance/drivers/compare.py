"""Compare a conformance case's oracle run (local nnsight) with its run against a server.

Owner: conformance/drivers/. Reads two OUT_DIRs written by nnsight_case.py and prints ONE
JSON object on stdout.

Usage:
    python compare.py EXPECTED_DIR ACTUAL_DIR [--numerics exact|fp32|bf16|gpu]

    EXPECTED_DIR  the oracle run (nnsight_case.py --mode local)
    ACTUAL_DIR    the run under test (nnsight_case.py --mode remote)
    --numerics    the policy's float tolerance (POLICIES; default fp32: rtol 1e-5, atol
                  1e-6), widened by the oracle's outcome.json "tolerance" (the case's
                  TOLERANCE).

Output (the evidence; the verdict is the conformance crate's, conformance/src/verdict.rs):
    {"basis": "values" | "error" | "run_failed" | "case_broken",
     "equal": bool,                                       # values / error only
     "tolerance": {"rtol": r, "atol": a},
     "details": [{"name": ..., "ok": bool, "why": "...", "max_abs_diff": float | null,
                  "max_ulp": int | null, "expected": "<summary>", "actual": "<summary>"}, ...],
     "error_type": ..., "message": ..., "stage": ...}      # run_failed / case_broken only

    case_broken  the oracle could not judge: it raised what the case does not declare
                 (EXPECT_ERROR), returned values where it declares an error, or left
                 nothing readable
    run_failed   the run under test raised where the oracle returned values (its
                 error_type / message / stage are included), or left no readable results
    error        the oracle raised the declared error: `equal` when the run under test raised
                 the same exception type with the same message — for a remote run, the
                 server's ERROR description (nnsight's RemoteError) must end with that
                 `Type: message` line
    values       both returned values; `equal` unless a name is missing or unexpected, a
                 type differs, or for tensors (and numpy arrays and scalars) the dtype or
                 shape differs, the values are not
                 `torch.allclose(actual, expected, rtol, atol, equal_nan=True)`, or, for
                 floating tensors with ndim >= 2 (policies exact and fp32), the argmax over
                 the last dim at the last position of dim -2 differs. Lists, tuples and dicts
                 (including ModelOutput) are compared recursively; other objects by type
                 and attributes (vars()), or by ==. bool, int, str, bytes and None must be
                 equal; floats must satisfy |a - e| <= atol + rtol * |e|. Each float value's
                 largest difference is reported as max_abs_diff and max_ulp (the distance in
                 units in the last place of its dtype).
Exit code 0 whenever a verdict is printed, 2 for bad arguments.
Standard library + torch only (and numpy, for values that are numpy's).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-6

# The numerics policies (`conformance --numerics`): (rtol, atol) for floats. A case's
# TOLERANCE widens them, never narrows them.
POLICIES = {
    "exact": (0.0, 0.0),
    "fp32": (DEFAULT_RTOL, DEFAULT_ATOL),
    "bf16": (2e-2, 2e-2),
    "gpu": (1e-4, 1e-4),
}


def tolerance(policy: str, case_tolerance: dict | None) -> tuple[float, float]:
    """(rtol, atol) for a run under `policy` of a case with its own TOLERANCE (or None)."""
    rtol, atol = POLICIES[policy]
    tol = case_tolerance or {}
    return max(rtol, float(tol.get("rtol", 0.0))), max(atol, float(tol.get("atol", 0.0)))


def ulp_distance(exp, act) -> int | None:
    """The largest distance between two float tensors of one dtype, in units in the last
    place of that dtype (0: bit-identical; NaN against NaN and equal infinities count 0),
    or None for dtypes without an integer view of their bits."""
    import torch

    bits = {torch.float32: (torch.int32, 32), torch.float64: (torch.int64, 64),
            torch.float16: (torch.int16, 16), torch.bfloat16: (torch.int16, 16)}.get(exp.dtype)
    if bits is None or exp.numel() == 0:
        return None if bits is None else 0
    int_dtype, width = bits

    def ordered(t):
        # Sign-magnitude bits to a monotonic integer line (-0.0 and 0.0 both 0).
        i = t.contiguous().view(int_dtype).to(torch.int64)
        return torch.where(i < 0, torch.full_like(i, -(2 ** (width - 1))) - i, i).to(torch.float64)

    d = (ordered(act) - ordered(exp)).abs()
    same = (torch.isnan(exp) & torch.isnan(act)) | (exp == act)
    d = torch.where(same, torch.zeros_like(d), d)
    return int(d.max())


class Mismatch(Exception):
    """A difference, with the path to it inside the compared value."""


def read_outcome(directory: str) -> dict | None:
    try:
        with open(os.path.join(directory, "outcome.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def load_values(directory: str) -> dict:
    import torch

    return torch.load(os.path.join(directory, "values.pt"), map_location="cpu", weights_only=False)


def type_name(value) -> str:
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def summary(value) -> str:
    import torch

    if isinstance(value, torch.Tensor):
        return f"{type_name(value)} {str(value.dtype).replace('torch.', '')} {list(value.shape)}"
    if isinstance(value, (list, tuple, dict)):
        return f"{type_name(value)} of {len(value)}"
    text = repr(value)
    return f"{type_name(value)} {text[:60] + '...' if len(text) > 60 else text}"


class Comparer:
    def __init__(self, rtol: float, atol: float, argmax: bool = True) -> None:
        self.rtol, self.atol = rtol, atol
        self.argmax = argmax
        self.max_abs_diff: float | None = None
        self.max_ulp: int | None = None
        self._seen: set[tuple[int, int]] = set()

    def note_ulp(self, u: int | None) -> None:
        if u is not None and (self.max_ulp is None or u > self.max_ulp):
            self.max_ulp = u

    def note_diff(self, d: float) -> None:
        if self.max_abs_diff is None or not (d <= self.max_abs_diff):  # NaN sticks
            self.max_abs_diff = d

    def compare(self, exp, act, path: str) -> None:
        import torch

        if type(exp) is not type(act):
            raise Mismatch(f"{path}: type {type_name(act)}, expected {type_name(exp)}")
        if isinstance(exp, torch.Tensor):
            return self.tensor(exp, act, path)
        if type(exp).__module__ == "numpy":
            return self.numpy(exp, act, path)
        if exp is None or isinstance(exp, (bool, int, str, bytes, torch.dtype, torch.device)):
            if exp != act:
                raise Mismatch(f"{path}: {act!r}, expected {exp!r}")
            return
        if isinstance(exp, float):
            return self.scalar(exp, act, path)
        if isinstance(exp, complex):
            return self.scalar(exp, act, path)
        key = (id(exp), id(act))
        if key in self._seen:  # shared references / cycles: compared once
            return
        self._seen.add(key)
        if isinstance(exp, (list, tuple)):
            if len(exp) != len(act):
                raise Mismatch(f"{path}: length {len(act)}, expected {len(exp)}")
            for i, (e, a) in enumerate(zip(exp, act)):
                self.compare(e, a, f"{path}[{i}]")
            return
        if isinstance(exp, dict):
            self.keys(set(exp), set(act), path)
            for k in exp:
                self.compare(exp[k], act[k], f"{path}[{k!r}]")
            return
        if isinstance(exp, (set, frozenset)):
            if exp != act:
                raise Mismatch(f"{path}: {act!r}, expected {exp!r}")
            return
        if hasattr(exp, "__dict__"):
            e, a = vars(exp), vars(act)
            self.keys(set(e), set(a), path, what="attributes")
            for k in e:
                self.compare(e[k], a[k], f"{path}.{k}")
            return
        try:
            equal = bool(exp == act)
        except Exception:  # noqa: BLE001 - no usable ==: fall back to repr
            equal = repr(exp) == repr(act)
        if not equal:
            raise Mismatch(f"{path}: {summary(act)}, expected {summary(exp)}")

    @staticmethod
    def keys(e: set, a: set, path: str, what: str = "keys") -> None:
        if e != a:
            missing = sorted(map(repr, e - a))
            extra = sorted(map(repr, a - e))
            raise Mismatch(f"{path}: {what} differ; missing {missing}, unexpected {extra}")

    def scalar(self, exp, act, path: str) -> None:
        if exp != exp and act != act:  # both NaN
            return
        if math.isinf(abs(exp)) or math.isinf(abs(act)):
            if exp != act:
                raise Mismatch(f"{path}: {act!r}, expected {exp!r}")
            return
        d = abs(act - exp)
        self.note_diff(float(d))
        if not d <= self.atol + self.rtol * abs(exp):
            raise Mismatch(f"{path}: {act!r}, expected {exp!r} (abs diff {d:.3g})")

    def numpy(self, exp, act, path: str) -> None:
        """numpy arrays and scalars: the same dtype and shape, values as tensors'."""
        import numpy as np
        import torch

        if not isinstance(exp, (np.ndarray, np.generic)):
            if exp != act:
                raise Mismatch(f"{path}: {act!r}, expected {exp!r}")
            return
        if exp.dtype != act.dtype:
            raise Mismatch(f"{path}: dtype {act.dtype}, expected {exp.dtype}")
        if np.shape(exp) != np.shape(act):
            raise Mismatch(f"{path}: shape {list(np.shape(act))}, expected {list(np.shape(exp))}")
        if exp.dtype.kind not in "biuf":
            if not np.array_equal(exp, act):
                raise Mismatch(f"{path}: {summary(act)}, expected {summary(exp)}")
            return
        as_tensor = lambda a: torch.from_numpy(np.array(a, copy=True).reshape(np.shape(a)))
        self.tensor(as_tensor(exp), as_tensor(act), path)

    def tensor(self, exp, act, path: str) -> None:
        import torch

        if exp.dtype != act.dtype:
            raise Mismatch(f"{path}: dtype {act.dtype}, expected {exp.dtype}")
        if exp.shape != act.shape:
            raise Mismatch(f"{path}: shape {list(act.shape)}, expected {list(exp.shape)}")
        exp, act = exp.detach().cpu(), act.detach().cpu()
        if exp.layout != torch.strided:
            exp, act = exp.to_dense(), act.to_dense()
        if exp.is_floating_point() or exp.is_complex():
            if exp.numel():
                e64 = exp.to(torch.complex128 if exp.is_complex() else torch.float64)
                a64 = act.to(e64.dtype)
                diff = (a64 - e64).abs()
                both_nan = torch.isnan(e64) & torch.isnan(a64)
                same_inf = torch.isinf(e64) & (e64 == a64)
                diff = torch.where(both_nan | same_inf, torch.zeros_like(diff), diff)
                self.note_diff(float(diff.max()))
                if exp.is_floating_point():
                    self.note_ulp(ulp_distance(exp, act))
            if not torch.allclose(act, exp, rtol=self.rtol, atol=self.atol, equal_nan=True):
                d = self.max_abs_diff
                raise Mismatch(
                    f"{path}: values differ (max abs diff {d:.3g}; rtol {self.rtol:g}, atol {self.atol:g})"
                )
            if self.argmax and exp.is_floating_point() and exp.ndim >= 2 and exp.shape[-1] > 0 and exp.shape[-2] > 0:
                ea = exp[..., -1, :].argmax(-1)
                aa = act[..., -1, :].argmax(-1)
                if not torch.equal(ea, aa):
                    raise Mismatch(
                        f"{path}: argmax over the last dim at the last position differs: "
                        f"{aa.flatten().tolist()[:8]}, expected {ea.flatten().tolist()[:8]}"
                    )
        elif not torch.equal(exp, act):
            bad = int((exp != act).sum())
            raise Mismatch(f"{path}: {bad} of {exp.numel()} elements differ")


def failure(basis: str, base: dict, outcome: dict, label: str, prefix: str) -> dict:
    """The evidence of a run that raised instead of returning values."""
    error_type, message = outcome.get("error_type", ""), outcome.get("message", "")
    return {
        "basis": basis,
        **base,
        "error_type": error_type,
        "message": message,
        "stage": outcome.get("stage", ""),
        "details": [{"name": label, "ok": False, "max_abs_diff": None, "why": f"{prefix}{error_type}: {message}"}],
    }


def raised(exc: Exception) -> dict:
    """An exception as the error part of an outcome."""
    return {"error_type": type(exc).__name__, "message": str(exc)}


def error_line(outcome: dict) -> str:
    """`Type: message` as Python's traceback ends (just `Type` for an empty message)."""
    message = outcome.get("message", "")
    return f"{outcome.get('error_type', '')}: {message}" if message else outcome.get("error_type", "")


def raised_type(outcome: dict) -> str:
    """The exception type an outcome's error is, unwrapping nnsight 0.5-0.7's
    NNsightException (whose text ends with the user's error line)."""
    t = outcome.get("error_type") or ""
    if t == "NNsightException":
        last = (outcome.get("message") or "").rstrip().splitlines()[-1:] or [""]
        t = last[0].split(":")[0].strip()
    return t.rsplit(".", 1)[-1]


def without_client_suffix(outcome: dict | None) -> dict | None:
    """The outcome without the line nnsight 0.5's RemoteException appends to the server's
    text ("Remote exception."): the error the server reported ends the message again."""
    if outcome is None or outcome.get("error_type") != "RemoteException":
        return outcome
    message = (outcome.get("message") or "").rstrip()
    return {**outcome, "message": message.removesuffix("\nRemote exception.")}


def error_verdict(base: dict, expected: dict, actual: dict | None) -> dict:
    """The oracle raised: the run must raise the same error."""
    actual = without_client_suffix(actual)
    want = error_line(expected)
    # Python's traceback names a non-builtin exception with its module.
    module = expected.get("error_module", "builtins")
    wants = {want} if module in ("builtins", "__main__") else {want, f"{module}.{want}"}
    if actual is None:
        return failure("run_failed", base, {"error_type": "MissingOutcome", "message": "no readable outcome.json"}, "(run)", "")
    if actual.get("ok"):
        why = f"the oracle raised {want!r}, the run returned values"
        return {"basis": "error", "equal": False, **base,
                "details": [{"name": "(error)", "ok": False, "why": why, "max_abs_diff": None}]}
    if expected.get("error_type") == "NNsightException":
        # nnsight 0.5-0.7 wrap every error (local or remote) in an NNsightException whose
        # text is the user's traceback: compare the error it ends with.
        want = expected.get("message", "").rstrip().splitlines()[-1:] or [""]
        want = want[0]
        got = actual.get("message", "").rstrip() if actual.get("error_type") == "NNsightException" else error_line(actual)
        last = got.splitlines()[-1] if got else got
        same = last == want
        why = f"same error: {want}" if same else f"raised {last!r}, expected {want!r}"
        return {"basis": "error", "equal": same, **base,
                "details": [{"name": "(error)", "ok": same, "why": why, "max_abs_diff": None}]}
    if actual.get("error_type") == "RemoteError":
        got = actual.get("message", "").rstrip()
        same = any(got == w or got.endswith("\n" + w) for w in wants)
    else:
        got = error_line(actual)
        same = got == want
    last = got.splitlines()[-1] if got else got
    why = f"same error: {want}" if same else f"raised {last!r}, expected {want!r}"
    return {"basis": "error", "equal": same, **base,
            "details": [{"name": "(error)", "ok": same, "why": why, "max_abs_diff": None}]}


def verdict_of(expected_dir: str, actual_dir: str, policy: str = "fp32",
               check_case: bool = True) -> dict:
    """The evidence of a run against the oracle's under the numerics `policy` (widened by
    the case's TOLERANCE); `check_case=False` compares two runs of the same side only (the
    determinism control, with policy "exact"), without judging the case's declarations."""
    expected = read_outcome(expected_dir)
    rtol, atol = tolerance(policy, (expected or {}).get("tolerance")) if check_case else (0.0, 0.0)
    base = {"tolerance": {"rtol": rtol, "atol": atol}}
    argmax = policy in ("exact", "fp32")

    if check_case and expected is not None and not expected.get("ok") and expected.get("stage") == "case":
        # An error case only when the case says so: an oracle that raised anything else
        # means the case is broken, and it cannot judge a server.
        declared, raised = expected.get("expect_error"), raised_type(expected)
        if declared != raised:
            why = (f"the oracle raised {raised} but the case declares no EXPECT_ERROR: the case is broken in the oracle"
                   if not declared else f"the oracle raised {raised}, the case expects {declared}: the case is broken in the oracle")
            reply = failure("case_broken", base, expected, "(oracle)", why + ": ")
            reply["message"] = f"{why}: {expected.get('error_type', '')}: {expected.get('message', '')}"
            return reply
        return error_verdict(base, expected, read_outcome(actual_dir))
    if check_case and expected is not None and expected.get("ok") and expected.get("expect_error"):
        why = f"the case expects {expected['expect_error']} but the oracle returned values: the case is broken in the oracle"
        reply = failure("case_broken", base, {"error_type": "NoError", "message": why}, "(oracle)", "")
        reply["message"] = why
        return reply
    if expected is None or not expected.get("ok"):
        e = expected or {"error_type": "MissingOutcome", "message": f"no readable outcome.json in {expected_dir}"}
        return failure("case_broken", base, e, "(oracle)", "the oracle failed: ")
    try:
        exp_values = load_values(expected_dir)
    except Exception as exc:  # noqa: BLE001
        return failure("case_broken", base, raised(exc), "(oracle)", "the oracle's values.pt does not load: ")

    actual = read_outcome(actual_dir)
    if actual is None or not actual.get("ok"):
        a = actual or {"error_type": "MissingOutcome", "message": f"no readable outcome.json in {actual_dir}"}
        return failure("run_failed", base, a, "(run)", "")
    try:
        act_values = load_values(actual_dir)
    except Exception as exc:  # noqa: BLE001
        return failure("run_failed", base, raised(exc), "(run)", "values.pt does not load: ")

    details = []
    for name in list(exp_values) + [n for n in act_values if n not in exp_values]:
        if name not in act_values:
            details.append({"name": name, "ok": False, "why": "missing: the run did not return it",
                            "max_abs_diff": None, "expected": summary(exp_values[name]), "actual": None})
            continue
        if name not in exp_values:
            details.append({"name": name, "ok": False, "why": "unexpected: the oracle did not return it",
                            "max_abs_diff": None, "expected": None, "actual": summary(act_values[name])})
            continue
        comparer = Comparer(rtol, atol, argmax)
        try:
            comparer.compare(exp_values[name], act_values[name], name)
            ok, why = True, "match"
        except Mismatch as m:
            ok, why = False, str(m)
        except Exception as exc:  # noqa: BLE001 - a comparison that cannot be made is a difference
            ok, why = False, f"{name}: cannot compare: {type(exc).__name__}: {exc}"
        mad = comparer.max_abs_diff
        details.append({"name": name, "ok": ok, "why": why,
                        "max_abs_diff": None if mad is None or math.isnan(mad) else mad,
                        "max_ulp": comparer.max_ulp,
                        "expected": summary(exp_values[name]), "actual": summary(act_values[name])})
    return {"basis": "values", "equal": all(d["ok"] for d in details), **base, "details": details}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="Compare an oracle run with a run under test.")
    p.add_argument("expected_dir")
    p.add_argument("actual_dir")
    p.add_argument("--numerics", choices=sorted(POLICIES), default="fp32")
    args = p.parse_args(argv)
    result = verdict_of(args.expected_dir, args.actual_dir, args.numerics)
    json.dump(result, sys.stdout, default=repr)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
