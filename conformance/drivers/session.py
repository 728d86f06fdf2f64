"""Run MANY conformance cases in one process with the real, installed nnsight client.

Owner: conformance/drivers/. Started once by the conformance crate (conformance/src/driver.rs)
so that torch, transformers and nnsight are imported once for a whole suite. Each case runs
twice, exactly as nnsight_case.py runs it: locally (the oracle, on the real weights) and with
remote=True against the server under test; compare.py's rules give the verdict.

Usage:
    python session.py --model-dir DIR --repo-id REPO --host URL [--via hub|dir]
                      [--oracle-cache DIR] [--debug]

    --oracle-cache DIR: oracle runs are kept here, keyed by the case file, the nnsight
              version and the weights (a hash of --model-dir's files), and reused: only the
              server's half of a case runs again. The first oracle run of a session that is
              not in the cache runs twice (the determinism control): if the two differ, the
              oracle cannot judge this machine's numbers, and that case is INFO.

    --via hub (default): the server is also the Hugging Face Hub for its models (localndif
              is): HF_ENDPOINT points at it, both clients name the model by its repo id and
              the local oracle downloads the weights from it — what a user does.
    --via dir: for servers without a Hub endpoint: the repo id resolves to --model-dir
              through a symlink and nnsight's id cache, the remote client gets an explicit
              tokenizer, and the Hub is never contacted.

Protocol (JSON lines):
    stdout, once:   {"ready": true}            (or {"ready": false, "error": "..."} and exit 1)
    stdin, per case: {"case": "/abs/case.py", "out": "/abs/out/dir", "unmet": null | "why"}
                     ("unmet": the server does not advertise what the case's NEEDS name)
    stdout, per case: the evidence (never a verdict: conformance/src/verdict.rs decides):
                      compare.py's object ("basis", "equal", "details", ...) or a basis of
                      this session's — "not_for" (NOT_FOR names this client),
                      "case_broken" (the case does not load), "nondeterministic" (the
                      determinism control), "needs" (a SERVER_ONLY case raised
                      CannotJudge), "server_behaved" / "server_misbehaved" (SERVER_ONLY) —
                      plus "local" and "remote" outcomes, "numerics" (policy, tolerance,
                      the oracle's threads and attention), "transcript" (the statuses the
                      client handled) and "oracle_cached".
                      OUT/local and OUT/remote hold values.pt / outcome.json as
                      nnsight_case.py writes them.
A case with NOT_FOR = {"0.7": "why"} is not run with that client version (basis not_for,
with the reason): it tests a behaviour that version's own local execution does not have.
A key names a minor series ("0.5": every 0.5.x client) or one exact version ("0.5.0").
A case with SERVER_ONLY = True tests the server alone: its run(model) uses remote=True and
raises AssertionError when the server misbehaves (server_behaved when it returns).
Stdin closing ends the session (exit 0). Anything the cases print goes to stderr, so stdout
carries only the protocol.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import nnsight_case as nc  # noqa: E402  (sets the offline environment on import)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Run conformance cases in one nnsight session.")
    p.add_argument("--model-dir", required=True)
    p.add_argument("--repo-id", required=True)
    p.add_argument("--host", default=nc.DEFAULT_HOST)
    p.add_argument("--via", choices=["hub", "dir"], default="hub")
    p.add_argument("--oracle-cache", default=None)
    p.add_argument("--threads", default="auto",
                   help="torch intra-op threads for the oracle: auto (the count the server "
                        "advertises for the model in /status, else torch's default), default, or N")
    p.add_argument("--numerics", default="fp32", choices=["exact", "fp32", "bf16", "gpu"],
                   help="how floats are compared (compare.POLICIES; a case's TOLERANCE widens it); "
                        "exact also builds the oracle with the attention implementation the server advertises")
    p.add_argument("--debug", action="store_true")
    return p.parse_args(argv)


def weights_hash(model_dir: str) -> str:
    """A hash of the model directory's files: their names and contents (for files over
    64 MiB, their size and first and last MiB, so a large checkpoint is not read whole)."""
    import hashlib

    h = hashlib.sha256()
    for root, dirs, files in os.walk(model_dir):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            size = os.path.getsize(path)
            h.update(os.path.relpath(path, model_dir).encode() + b"\0" + str(size).encode() + b"\0")
            with open(path, "rb") as f:
                if size <= 64 << 20:
                    h.update(f.read())
                else:
                    h.update(f.read(1 << 20))
                    f.seek(size - (1 << 20))
                    h.update(f.read())
    return h.hexdigest()[:16]


TRANSCRIPT: list[str] = []


def advertised(host: str, repo: str, key: str):
    """What the server says of how it runs `repo` (`/status`'s deployment entry: its
    `intra_op_threads`, `attn_implementation`, which localndif advertises), or None."""
    import urllib.request

    try:
        with urllib.request.urlopen(host.rstrip("/") + "/status", timeout=10) as r:
            status = json.load(r)
    except Exception:  # noqa: BLE001 - a server without /status advertises nothing
        return None
    for entry in (status.get("deployments") or {}).values():
        if isinstance(entry, dict) and entry.get("repo_id") == repo:
            return entry.get(key)
    return None


def advertised_threads(host: str, repo: str) -> int | None:
    """The intra-op thread count the server says it runs `repo` at, or None."""
    n = advertised(host, repo, "intra_op_threads")
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else None


def advertised_attention(host: str, repo: str) -> str | None:
    """The attention implementation the server says it runs `repo` with, or None."""
    a = advertised(host, repo, "attn_implementation")
    return a if isinstance(a, str) and a in ("eager", "sdpa") else None


def oracle_threads(choice: str, host: str, repo: str) -> int:
    """Sets torch's intra-op threads for the oracle runs and returns the count: reductions
    split by thread count, so a local run reproduces a server's floats bit for bit only at
    the count the server ran at."""
    import torch

    if choice == "auto":
        n = advertised_threads(host, repo)
    elif choice == "default":
        n = None
    else:
        n = int(choice)
    if n is not None:
        torch.set_num_threads(n)
    return torch.get_num_threads()


def observe_statuses() -> None:
    """Records the status of every update the client handles (the report's transcript).
    Observation only: the client's own method runs unchanged (0.8: RemoteBackend.note,
    0.5-0.7: RemoteBackend.handle_response)."""
    from nnsight.intervention.backends import remote

    cls = remote.RemoteBackend
    name = "note" if hasattr(cls, "note") else "handle_response"
    original = getattr(cls, name)

    def observed(self, response, *args, **kwargs):
        status = getattr(response, "status", None)
        TRANSCRIPT.append(str(getattr(status, "value", status)))
        return original(self, response, *args, **kwargs)

    setattr(cls, name, observed)


def environment_key() -> str:
    """What an oracle's values depend on besides the case and the weights: the versions of
    nnsight, torch and transformers and the driver files that run and save the case."""
    import hashlib

    import torch
    import transformers

    import nnsight

    h = hashlib.sha256()
    for v in (nnsight.__version__, torch.__version__, transformers.__version__):
        h.update(v.encode() + b"\0")
    here = os.path.dirname(os.path.abspath(__file__))
    for name in ("session.py", "nnsight_case.py", "compare.py"):
        with open(os.path.join(here, name), "rb") as f:
            h.update(f.read() + b"\0")
    return h.hexdigest()[:16]


class OracleCache:
    """Oracle runs by (case file, weights, intra-op threads, attention), under a folder of their
    environment (`environment_key`), so a new nnsight, torch, transformers or driver never
    reads values an older one computed."""

    def __init__(self, root: str | None, version: str, weights: str, threads: int = 0,
                 attention: str | None = None) -> None:
        self.root = os.path.join(root, environment_key()) if root else None
        self.version, self.weights = version, weights
        self.threads = threads
        self.attention = attention or "default"

    def key(self, case_path: str) -> str:
        import hashlib

        with open(case_path, "rb") as f:
            text = f.read()
        parts = [text, self.version.encode(), self.weights.encode(), str(self.threads).encode(),
                 self.attention.encode()]
        return hashlib.sha256(b"\0".join(parts)).hexdigest()[:24]

    def get(self, case_path: str, out: str) -> dict | None:
        import shutil

        if not self.root:
            return None
        src = os.path.join(self.root, self.key(case_path))
        if not os.path.exists(os.path.join(src, "outcome.json")):
            return None
        if os.path.exists(out):
            shutil.rmtree(out)
        shutil.copytree(src, out)
        with open(os.path.join(out, "outcome.json")) as f:
            return json.load(f)

    def put(self, case_path: str, out: str) -> None:
        import shutil

        if not self.root:
            return
        dst = os.path.join(self.root, self.key(case_path))
        tmp = dst + f".tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(out, tmp)
        shutil.rmtree(dst, ignore_errors=True)
        os.replace(tmp, dst)


def run_mode(case, model, mode: str, out: str) -> dict:
    """Runs the case in one mode; writes OUT/outcome.json (+ values.pt); returns the outcome."""
    import torch

    os.makedirs(out, exist_ok=True)
    for stale in ("values.pt", "outcome.json"):
        if os.path.exists(os.path.join(out, stale)):
            os.remove(os.path.join(out, stale))
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            result = case.run(model, remote=(mode == "remote"))
        if not isinstance(result, dict) or not all(isinstance(k, str) for k in result):
            raise TypeError(f"run() must return a dict with str keys, got {type(result).__name__}")
        values = {k: nc.to_cpu(v) for k, v in result.items()}
    except Exception as exc:  # noqa: BLE001 - the case's (or the server's) failure
        outcome = nc.case_outcome(case, mode, time.perf_counter() - start, exc=exc)
        nc.write_outcome(out, outcome)
        return outcome
    seconds = time.perf_counter() - start
    try:
        torch.save(values, os.path.join(out, "values.pt"))
    except Exception as exc:  # noqa: BLE001 - a value that cannot be saved fails the case, not the session
        if os.path.exists(os.path.join(out, "values.pt")):
            os.remove(os.path.join(out, "values.pt"))
        outcome = nc.case_outcome(case, mode, seconds, exc=exc)
        nc.write_outcome(out, outcome)
        return outcome
    outcome = nc.case_outcome(case, mode, seconds, values)
    nc.write_outcome(out, outcome)
    return outcome


def server_only(case, model, out: str) -> dict:
    """A case about the server itself (limits, hostile code): `run(model)` talks to the
    server only and raises AssertionError when it behaves wrongly, or lets the server's
    own error through (a `NotImplementedError` refusal is then MISSING by the crate's
    rule), or raises `nnsight_case.CannotJudge` when this server's settings leave it
    nothing to judge. No oracle."""
    os.makedirs(out, exist_ok=True)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            case.run(model)
    except nc.CannotJudge as exc:
        return {"basis": "needs", "message": str(exc), "details": []}
    except Exception as exc:  # noqa: BLE001 - the evidence
        outcome = nc.error_outcome(exc, "case", "remote", time.perf_counter() - start)
        outcome["message"] = nc.server_text(exc) if isinstance(exc, nc.RemoteError) else f"{type(exc).__name__}: {exc}"
        nc.write_outcome(out, outcome)
        return {"basis": "server_misbehaved", "message": outcome["message"], "details": [], "remote": outcome}
    outcome = {"ok": True, "mode": "remote", "seconds": time.perf_counter() - start}
    nc.write_outcome(out, outcome)
    return {"basis": "server_behaved", "details": [{"name": "(server)", "ok": True, "why": "as expected"}], "remote": outcome}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    model_dir = os.path.abspath(args.model_dir)
    repo = args.repo_id.strip("/")
    tmp = tempfile.mkdtemp(prefix="localndif-session-")
    try:
        if args.via == "hub":
            # Before anything imports huggingface_hub: the server is the Hub, with a cache
            # of this session's own.
            os.environ["HF_ENDPOINT"] = args.host
            os.environ["HF_HOME"] = os.path.join(tmp, "hf-home")
            for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
                os.environ.pop(var, None)
        else:
            link = os.path.join(tmp, repo)
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(model_dir, link)
        os.chdir(tmp)
        nnsight = nc.configure_nnsight("remote", args.host, args.debug)
        # --numerics exact: the oracle runs as the server says it runs the model.
        attention = advertised_attention(args.host, repo) if args.numerics == "exact" else None
        local_kwargs = {"attn_implementation": attention} if attention else {}
        if args.via == "hub":
            from nnsight import LanguageModel

            # nnsight 0.8.1 + transformers 5 find no tokenizer for an undispatched model
            # unless it is named (docs/protocol.md); 0.5-0.7 load it themselves and take
            # only a tokenizer object.
            models = {
                "local": LanguageModel(repo, dispatch=True, **local_kwargs),
                "remote": LanguageModel(repo) if nc.loads_its_tokenizer() else LanguageModel(repo, tokenizer=repo),
            }
        else:
            models = {"local": nc.make_model("local", repo, **local_kwargs), "remote": nc.make_model("remote", repo)}
        import compare
    except Exception as exc:  # noqa: BLE001 - setup failure
        print(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
        traceback.print_exc()
        return 1
    threads = oracle_threads(args.threads, args.host, repo)
    cache = OracleCache(
        os.path.abspath(args.oracle_cache) if args.oracle_cache else None,
        nnsight.__version__,
        weights_hash(model_dir),
        threads,
        attention,
    )
    controlled = False
    observe_statuses()
    print(json.dumps({"ready": True}), flush=True)

    for n, line in enumerate(sys.stdin):
        if not line.strip():
            continue
        req = json.loads(line)
        out = os.path.abspath(req["out"])
        try:
            case = nc.load_case(req["case"], suffix=str(n))
            nc.register_by_value(nnsight, case)  # helper functions in the case travel by value
        except Exception as exc:  # noqa: BLE001 - a broken case file
            reply = {"basis": "case_broken", "details": [], "error_type": type(exc).__name__,
                     "message": f"the case does not load: {exc}"}
            print(json.dumps(reply, default=repr), flush=True)
            continue
        not_for = nc.for_client(getattr(case, "NOT_FOR", {}))
        if not_for:
            print(json.dumps({"basis": "not_for", "details": [], "message": f"not for nnsight {nnsight.__version__}: {not_for}"}), flush=True)
            sys.modules.pop(case.__name__, None)
            continue
        if req.get("unmet"):
            # The server does not advertise a setting the case needs (NEEDS, read by the
            # conformance crate from GET /env): nothing to judge.
            print(json.dumps({"basis": "needs", "details": [], "message": req["unmet"]}), flush=True)
            sys.modules.pop(case.__name__, None)
            continue
        if getattr(case, "SERVER_ONLY", False):
            TRANSCRIPT.clear()
            reply = server_only(case, models["remote"], os.path.join(out, "remote"))
            reply["transcript"] = list(TRANSCRIPT)
            print(json.dumps(reply, default=repr), flush=True)
            sys.modules.pop(case.__name__, None)
            continue
        local_dir = os.path.join(out, "local")
        local = cache.get(req["case"], local_dir)
        cached = local is not None
        control = None
        if local is None:
            local = run_mode(case, models["local"], "local", local_dir)
            if not controlled and local.get("ok"):
                # The determinism control: the same oracle run again must give the same values.
                controlled = True
                again = run_mode(case, models["local"], "local", os.path.join(out, "local-control"))
                control = compare.verdict_of(local_dir, os.path.join(out, "local-control"), "exact", check_case=False)
                if again.get("ok") and control["basis"] == "values" and control["equal"]:
                    control = None
            if control is None:
                cache.put(req["case"], local_dir)
        TRANSCRIPT.clear()
        remote = run_mode(case, models["remote"], "remote", os.path.join(out, "remote"))
        reply = compare.verdict_of(local_dir, os.path.join(out, "remote"), args.numerics)
        reply["numerics"] = {"policy": args.numerics, **reply.get("tolerance", {}),
                             "oracle_threads": threads, "oracle_attention": attention or "default"}
        reply["transcript"] = list(TRANSCRIPT)
        if control is not None:
            reply = {"basis": "nondeterministic", "details": control.get("details", []),
                     "message": "the determinism control failed: the oracle gave different values when run twice, so it cannot judge this case"}
        reply["local"] = local
        reply["remote"] = remote
        reply["oracle_cached"] = cached
        print(json.dumps(reply, default=repr), flush=True)
        sys.modules.pop(case.__name__, None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
