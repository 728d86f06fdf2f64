"""Run ONE conformance case with the real, installed nnsight client (0.8.1 from the pinned .venv).

Owner: conformance/drivers/. Called by the conformance crate (conformance/src/driver.rs),
once with --mode local (the oracle: nnsight runs the block itself on the real weights) and
once with --mode remote (the same block goes to the server under test as an NDIF request).

Usage:
    python nnsight_case.py --case CASE.py --model-dir DIR --repo-id REPO
                           --mode local|remote [--host URL] --out OUT_DIR [--debug]

    --case       a case file (conformance/cases/<area>/<id>_<name>.py)
    --model-dir  a save_pretrained directory (e.g. fixtures/models/tiny-gpt2)
    --repo-id    the repo id the client names, e.g. localndif/tiny-gpt2; it goes into the
                 request's model key, so the server must serve it under that id
    --mode       local: LanguageModel(REPO, dispatch=True), real weights on CPU, float32
                 remote: LanguageModel(REPO, tokenizer=...) undispatched (meta weights, as a
                 real remote user has it); the trace runs with remote=True against --host
    --host       server base URL for remote mode (default http://127.0.0.1:8001); accepted
                 and ignored in local mode
    --out        directory for the results (created if missing)
    --debug      nnsight's CONFIG.APP.DEBUG (verbose remote log, unfiltered tracebacks)

A case file is a Python module that defines

    def run(model, remote):
        with model.trace(..., remote=remote):
            x = ....save()
        return {"x": x}

and optionally a module-level TOLERANCE = {"rtol": ..., "atol": ...} and a docstring whose
first line is its title. The driver imports it by path, registers it with nnsight for
pickling by value (like a user's __main__ script, so helper functions defined in the case
travel by value), and calls run(model, remote=(mode == "remote")).

Outputs, in OUT_DIR:
    values.pt     torch.save of the returned dict, tensors detached and moved to CPU
                  (written only when the case succeeded)
    outcome.json  {"ok": true, "names": [...], "seconds": float, "mode": ..., "tolerance": {...}?}
                  or {"ok": false, "stage": "case", "error_type": "...", "message": "...",
                      "traceback": "...", "seconds": float, "mode": ...}
`tolerance` is the case's TOLERANCE when it defines one (compare.py uses it by default).
`stage` is "case" when running the case failed. That is a real outcome: the client raised, or
the server answered ERROR (nnsight raises RemoteError(description)). Exit code 0 either way.
Exit code 1 is for driver problems only: bad arguments, a case file that doesn't import or has
no run(), or a model that can't be built. outcome.json is still written then, with
"stage": "setup", when OUT_DIR is known.

Environment: HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1 are forced (the Hub is never
contacted). NNSIGHT_CONFIG points at an empty file, so that no user config leaks in. The
repo id resolves through a symlink <tmp>/<REPO> -> DIR with cwd <tmp>, and nnsight's hub-id
cache is pre-seeded (`nnsight.modeling.huggingface._ID_CACHE[REPO] = REPO`). Remote mode also
sets NDIF_HOST / CONFIG.API.HOST to --host, sets the API key to NDIF_API_KEY or a dummy value,
and turns off the live status display (CONFIG.APP.REMOTE_LOGGING = False).
Standard library + torch + transformers + nnsight only.
"""

from __future__ import annotations

import argparse
import os
import sys

# Before any HF/nnsight import: never touch the Hub, and ignore ~/.config/nnsight.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["NNSIGHT_CONFIG"] = os.devnull
# nnsight 0.7 draws its download progress bar even with REMOTE_LOGGING off.
os.environ.setdefault("TQDM_DISABLE", "1")

import importlib.util  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

DEFAULT_HOST = "http://127.0.0.1:8001"
DUMMY_API_KEY = "localndif-conformance-key"


class SetupError(Exception):
    """A driver-side problem (not the case's, not the server's): exit code 1."""


class CannotJudge(Exception):
    """Raised by a SERVER_ONLY case when what the server advertises (or does not) leaves
    it nothing to judge: INFO with this reason, never a FAIL for the server's settings."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Run one conformance case with the nnsight client.")
    p.add_argument("--case", required=True)
    p.add_argument("--model-dir", required=True)
    p.add_argument("--repo-id", required=True)
    p.add_argument("--mode", required=True, choices=["local", "remote"])
    p.add_argument("--host", default=DEFAULT_HOST)
    p.add_argument("--out", required=True)
    p.add_argument("--debug", action="store_true")
    return p.parse_args(argv)


def write_outcome(out: str, outcome: dict) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "outcome.json"), "w") as f:
        json.dump(outcome, f, indent=2, default=repr)
        f.write("\n")


def client_keys(version: str | None = None) -> tuple[str, ...]:
    """The keys a case's per-client dicts (`NOT_FOR`, `EXPECT_ERROR`) name this client by,
    most precise first: its exact version, then its minor series (`("0.5.13", "0.5")`,
    `("0.8.1", "0.8")`); "0.5" thus covers every 0.5.x client."""
    if version is None:
        import nnsight

        version = nnsight.__version__
    minor = ".".join(version.split(".")[:2])
    return (version, minor) if version != minor else (minor,)


def for_client(table: dict, version: str | None = None):
    """The entry of a per-client dict for this client (see `client_keys`), or None."""
    for key in client_keys(version):
        if key in table:
            return table[key]
    return None


def expected_error(case) -> str | None:
    """The exception type the case says its block raises with this client (`EXPECT_ERROR`,
    a name, or a dict by client version `{"0.7": "...", "0.8": "..."}`), or None."""
    want = getattr(case, "EXPECT_ERROR", None)
    if isinstance(want, dict):
        want = for_client(want)
    return want


def case_outcome(case, mode: str, seconds: float, values: dict | None = None,
                 exc: BaseException | None = None) -> dict:
    """The outcome of running a case's block: the names it returned (with the case's
    TOLERANCE), or the error it raised; with what error the case declares it raises."""
    if exc is not None:
        outcome = error_outcome(exc, "case", mode, seconds)
    else:
        outcome = {"ok": True, "mode": mode, "names": list(values or {}), "seconds": seconds}
        tol = getattr(case, "TOLERANCE", None)
        if tol:
            outcome["tolerance"] = dict(tol)
    outcome["expect_error"] = expected_error(case)
    return outcome


def error_outcome(exc: BaseException, stage: str, mode: str, seconds: float | None = None) -> dict:
    outcome = {
        "ok": False,
        "stage": stage,
        "mode": mode,
        "error_type": type(exc).__name__,
        "error_module": type(exc).__module__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    }
    if seconds is not None:
        outcome["seconds"] = seconds
    return outcome


def load_case(path: str, suffix: str = ""):
    """Import the case file as a uniquely named module; check it defines run()."""
    stem = os.path.splitext(os.path.basename(path))[0]
    name = "localndif_case_" + re.sub(r"\W", "_", stem) + (f"_{suffix}" if suffix else "")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SetupError(f"cannot import case file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "run", None)):
        raise SetupError(f"case {path} defines no run(model, remote)")
    tol = getattr(module, "TOLERANCE", None)
    if tol is not None and not (isinstance(tol, dict) and set(tol) <= {"rtol", "atol"}):
        raise SetupError(f"case {path}: TOLERANCE must be a dict with rtol/atol, got {tol!r}")
    return module


def serialize_socketio_dispatch():
    """Hand each socket.io message to its handler in arrival order.

    python-engineio's client (under every 0.5-0.7 nnsight) starts a new thread for each
    websocket message, so the header and the binary attachment of one event — or two
    events in a row — can be handled out of order: the event is lost (the client then waits
    forever) or delivered with the next header as its payload (python-socketio #403, #436).
    It is rare with one client and common with several on threads in one process (case
    41.1). The server spaces its events to make it rare for users (docs/protocol.md); the
    driver removes it so that a verdict is about the server, never this race. nnsight
    itself is untouched; 0.8 clients use no socket.io.
    """
    try:
        import engineio
    except ImportError:
        return
    original = engineio.Client._trigger_event
    if getattr(original, "in_order", False):
        return

    def _trigger_event(self, event, *args, **kwargs):
        if event == "message":
            kwargs["run_async"] = False
        return original(self, event, *args, **kwargs)

    _trigger_event.in_order = True
    engineio.Client._trigger_event = _trigger_event


def configure_nnsight(mode: str, host: str, debug: bool):
    """Import nnsight and set CONFIG for this run."""
    if mode == "remote":
        os.environ["NDIF_HOST"] = host
        os.environ.setdefault("NDIF_API_KEY", DUMMY_API_KEY)
        serialize_socketio_dispatch()
    import nnsight
    from nnsight import CONFIG

    CONFIG.APP.REMOTE_LOGGING = False  # no live status spinner / download bar
    CONFIG.APP.DEBUG = bool(debug)
    if mode == "remote":
        CONFIG.API.HOST = host
        if hasattr(CONFIG.API, "SSL"):
            # nnsight 0.5.0-0.5.13 want the bare host[:port] (in CONFIG.API.HOST and in
            # NDIF_HOST, which they read on every request) and the scheme as
            # CONFIG.API.SSL; 0.5.14 and later take the URL.
            scheme, _, bare = host.partition("://")
            CONFIG.API.HOST = os.environ["NDIF_HOST"] = bare.rstrip("/")
            CONFIG.API.SSL = scheme == "https"
        CONFIG.API.APIKEY = os.environ.get("NDIF_API_KEY") or DUMMY_API_KEY
    # LanguageModel is deprecated in 0.8.1 in favour of TransformersModel(task=...); it is
    # what users still write, and it shares TransformersModel's model key.
    deprecation = getattr(nnsight, "NNsightDeprecationWarning", None)  # 0.8+
    if deprecation is not None:
        warnings.filterwarnings("ignore", category=deprecation)
    return nnsight


def register_by_value(nnsight, module) -> None:
    """Pickle `module`'s functions and classes by value, like those of a user's __main__
    script: `nnsight.register` (0.6+), the `cloudpickle.register_pickle_by_value` that it
    wraps for 0.5.x, which has none."""
    register = getattr(nnsight, "register", None)
    if register is None:
        import cloudpickle

        register = cloudpickle.register_pickle_by_value
    register(module)


def skip_model_info(repo_id: str) -> None:
    """The model key without asking the Hub (`HfApi().model_info(repo).id`), for --via dir:
    `_ID_CACHE` in 0.8, `ID_CACHE` in 0.6-0.7; 0.5.10-0.5.15 ask the Hub on every key (their
    module's HfApi answers with the repo id here); 0.5.0 never asks."""
    try:
        import nnsight.modeling.huggingface as hf
    except ImportError:  # 0.5.0
        return
    cache = getattr(hf, "_ID_CACHE", getattr(hf, "ID_CACHE", None))
    if cache is not None:
        cache[repo_id] = repo_id
        return
    from types import SimpleNamespace

    class OfflineHfApi:
        def model_info(self, repo, *args, **kwargs):
            return SimpleNamespace(id=repo)

    hf.HfApi = OfflineHfApi


def loads_its_tokenizer() -> bool:
    """Whether the installed nnsight loads an undispatched model's tokenizer itself, padding
    left: 0.5-0.7 do (and use a tokenizer they are given as it is); 0.8.1 with transformers
    5 infers none, so it must be named (docs/protocol.md)."""
    import nnsight

    return nnsight.__version__.startswith(("0.5", "0.6", "0.7"))


def make_model(mode: str, repo_id: str, **kwargs):
    """Build the LanguageModel by repo id (cwd must hold the <repo_id> symlink); `kwargs`
    go to the local (dispatched) model's loader."""
    from nnsight import LanguageModel

    skip_model_info(repo_id)
    if mode == "local":
        model = LanguageModel(repo_id, dispatch=True, **kwargs)
    elif loads_its_tokenizer():
        model = LanguageModel(repo_id)
    else:
        # nnsight 0.8.1 + transformers 5.24 cannot infer the tokenizer for a meta
        # (undispatched) model, so it is passed explicitly (docs/protocol.md) — loaded as
        # nnsight loads its own, padding on the left whatever the checkpoint's
        # tokenizer_config says.
        from transformers import AutoTokenizer

        model = LanguageModel(repo_id, tokenizer=AutoTokenizer.from_pretrained(repo_id, padding_side="left"))
    tok = model.tokenizer
    if tok is None:
        raise SetupError("the model has no tokenizer")
    if tok.padding_side != "left":
        raise SetupError(f"expected nnsight to left-pad, tokenizer.padding_side={tok.padding_side!r}")
    if tok.pad_token is None:
        raise SetupError("the tokenizer has no pad token")
    return model


def to_cpu(value, memo=None):
    """Detach tensors to CPU, recursing through lists, tuples and dicts (shared and
    self-referencing containers stay shared)."""
    import torch

    memo = {} if memo is None else memo
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, torch.Tensor):
        out = value.detach().cpu()
    elif isinstance(value, list):
        out = []
        memo[id(value)] = out
        out.extend(to_cpu(v, memo) for v in value)
    elif isinstance(value, tuple) and not hasattr(value, "_fields"):
        out = tuple(to_cpu(v, memo) for v in value)
    elif type(value) is dict:
        out = {}
        memo[id(value)] = out
        for k, v in value.items():
            out[k] = to_cpu(v, memo)
    else:
        out = value
    memo[id(value)] = out
    return out


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    out = os.path.abspath(args.out)
    case_path = os.path.abspath(args.case)
    model_dir = os.path.abspath(args.model_dir)
    mode = args.mode
    old_cwd = os.getcwd()

    try:
        if not os.path.isfile(case_path):
            raise SetupError(f"no case file {case_path}")
        if not os.path.isfile(os.path.join(model_dir, "config.json")):
            raise SetupError(f"{model_dir} is not a model directory (no config.json)")
        if mode == "remote" and not args.host.startswith(("http://", "https://")):
            raise SetupError(f"--host must be an http(s) URL, got {args.host!r}")
        repo = args.repo_id.strip("/")
        if not repo or ".." in repo.split("/"):
            raise SetupError(f"bad --repo-id {args.repo_id!r}")
    except SetupError as exc:
        write_outcome(out, error_outcome(exc, "setup", mode))
        print(f"nnsight_case: {exc}", file=sys.stderr)
        return 1

    os.makedirs(out, exist_ok=True)
    for stale in ("values.pt", "outcome.json"):  # never leave a previous run's results
        if os.path.exists(os.path.join(out, stale)):
            os.remove(os.path.join(out, stale))

    with tempfile.TemporaryDirectory(prefix="localndif-case-") as tmp:
        try:
            link = os.path.join(tmp, repo)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(model_dir, link)
            os.chdir(tmp)
            nnsight = configure_nnsight(mode, args.host, args.debug)
            case = load_case(case_path)
            register_by_value(nnsight, case)  # helper functions in the case travel by value
            model = make_model(mode, repo)
        except Exception as exc:  # noqa: BLE001 - everything here is a setup failure
            os.chdir(old_cwd)
            write_outcome(out, error_outcome(exc, "setup", mode))
            traceback.print_exc()
            return 1

        start = time.perf_counter()
        try:
            result = case.run(model, remote=(mode == "remote"))
            if not isinstance(result, dict) or not all(isinstance(k, str) for k in result):
                raise TypeError(f"run() must return a dict with str keys, got {type(result).__name__}")
            seconds = time.perf_counter() - start
            values = {k: to_cpu(v) for k, v in result.items()}
        except Exception as exc:  # noqa: BLE001 - the case's (or the server's) failure
            seconds = time.perf_counter() - start
            os.chdir(old_cwd)
            write_outcome(out, case_outcome(case, mode, seconds, exc=exc))
            return 0
        finally:
            os.chdir(old_cwd)

    import torch

    os.makedirs(out, exist_ok=True)
    torch.save(values, os.path.join(out, "values.pt"))
    write_outcome(out, case_outcome(case, mode, seconds, values))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# Module paths per architecture, for cases written once for every architecture: a case
# binds the envoys before its trace (`h = blocks(model)`), so the traced code names no path.
PATHS = {
    "blocks": ("transformer.h", "model.layers", "gpt_neox.layers"),
    "final_norm": ("transformer.ln_f", "model.norm", "gpt_neox.final_layer_norm"),
    "embed": ("transformer.wte", "model.embed_tokens", "gpt_neox.embed_in"),
}


def _envoy(model, what: str):
    for path in PATHS[what]:
        node = model
        try:
            for part in path.split("."):
                node = getattr(node, part)
        except AttributeError:
            continue
        return node
    raise AttributeError(f"no {what} in {type(model).__name__}: tried {PATHS[what]}")


def blocks(model):
    """The decoder blocks: GPT-2's `transformer.h`, the Llama family's `model.layers`,
    GPT-NeoX's `gpt_neox.layers`."""
    return _envoy(model, "blocks")


def final_norm(model):
    """The norm before the LM head: GPT-2's `transformer.ln_f`, Llama's `model.norm`."""
    return _envoy(model, "final_norm")


def embed(model):
    """The token embedding: GPT-2's `transformer.wte`, Llama's `model.embed_tokens`."""
    return _envoy(model, "embed")


def server_text(error: BaseException) -> str:
    """The text of the server's error as the client raised it: `str(error)` without the
    line nnsight 0.5's `RemoteException` appends ("Remote exception.")."""
    return str(error).rstrip().removesuffix("\nRemote exception.")


def __getattr__(name: str):
    """`RemoteError`: what the installed client raises when the server reports ERROR —
    0.8's `RemoteError`, the `NNsightException` 0.6-0.7 wrap their `RemoteException` in,
    or 0.5's bare `RemoteException` (for 0.5-0.7 a tuple of both, which `except` and
    `isinstance` take)."""
    if name == "RemoteError":
        try:
            from nnsight.intervention.backends.remote import RemoteError
        except ImportError:
            from nnsight.intervention.backends.remote import RemoteException
            from nnsight.intervention.tracing.util import ExceptionWrapper

            RemoteError = (ExceptionWrapper, RemoteException)
        return RemoteError
    raise AttributeError(name)
