"""Soak test: a localndif under a steady mix of clients for ten minutes, as operators would
see it — normal jobs of both client generations beside hostile code, decompression bombs,
stalled and vanishing sockets and half-sent requests — and whether it holds.

Usage: make soak   (or: python python/soak.py [--seconds 600] [--binary target/release/localndif])

The requests are real nnsight 0.8.1 payloads recorded at start (the client's own
serialization of each snippet below, replayed over HTTP), and the recorded nnsight 0.7.0
and 0.5.13 bodies of fixtures/captures. It prints jobs done, errors by kind, the p99
latency of normal jobs, the server's RSS at start / middle / end and its open file
descriptors, and fails (exit 1) if a normal job failed or came back different from the same
job run alone, if `/ping` took over 1 s, or if RSS grew more than 10% from the middle to
the end. Not part of `make test` (it takes ten minutes); its figures are in the README.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
REPO = "localndif/tiny-gpt2"
G2_KEY = 'nnsight.modeling.transformers.TransformersModel:{"repo_id": "localndif/tiny-gpt2", "revision": null, "task": "text-generation"}'
G1_KEY = 'nnsight.modeling.language.LanguageModel:{"repo_id": "localndif/tiny-gpt2", "revision": null}'

NORMAL = {
    "save": 'with model.trace("The Eiffel Tower is in", remote=True):\n    out = model.transformer.h[0].output.save()\n',
    "edit": 'with model.trace("Hello there", remote=True):\n    model.transformer.h[1].output[:] = 0\n    out = model.lm_head.output.save()\n',
    "generate": 'with model.generate("Hello", max_new_tokens=3, remote=True):\n    out = model.generator.output.save()\n',
}
HOSTILE = {
    "endless loop": 'with model.trace("x", remote=True):\n    while True:\n        pass\n',
    "huge allocation": 'with model.trace("x", remote=True):\n    big = torch.zeros(1 << 40)\n',
    "deep recursion": 'def f(n):\n    return f(n + 1)\nwith model.trace("x", remote=True):\n    f(0)\n',
    "self-reference": 'with model.trace("x", remote=True):\n    a = []\n    a.append(a)\n    out = nnsight.save(a)\n',
}


def record() -> dict[str, bytes]:
    """Each snippet's payload as nnsight 0.8.1 serializes it (nothing is sent)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    import nnsight
    import nnsight.modeling.huggingface as hf
    import torch
    from nnsight import LanguageModel
    from nnsight.schema.request import RequestModel
    from transformers import AutoTokenizer

    work = os.path.join("/tmp", f"soak-{os.getpid()}")
    os.makedirs(os.path.join(work, "localndif"), exist_ok=True)
    link = os.path.join(work, REPO)
    if not os.path.exists(link):
        os.symlink(os.path.join(ROOT, "fixtures", "models", "tiny-gpt2"), link)
    os.chdir(work)
    hf._ID_CACHE[REPO] = REPO
    model = LanguageModel(REPO, tokenizer=AutoTokenizer.from_pretrained(REPO))
    captured: list[bytes] = []
    original = RequestModel.serialize.__func__

    def serialize(cls, tracer, compress=False):
        captured.append(original(cls, tracer, True))
        raise KeyboardInterrupt  # stops the trace before anything is sent

    RequestModel.serialize = classmethod(serialize)
    out = {}
    for name, source in {**NORMAL, **HOSTILE}.items():
        captured.clear()
        # nnsight reads the block back from its file.
        path = os.path.join(work, name.replace(" ", "_") + ".py")
        with open(path, "w") as f:
            f.write(source)
        try:
            exec(compile(source, path, "exec"), {"model": model, "torch": torch, "nnsight": nnsight})
        except KeyboardInterrupt:
            pass
        if not captured:
            sys.exit(f"soak: recording '{name}' sent nothing")
        out[name] = captured[0]
    RequestModel.serialize = classmethod(original)
    return out


def g2_body(blob: bytes, session: str = "") -> tuple[bytes, str]:
    data = json.dumps({"model_key": G2_KEY, "session_id": session, "compress": True, "env": {}})
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="data"\r\n\r\n{data}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="blob"; filename="request"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + blob + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Http:
    def __init__(self, port: int) -> None:
        self.port = port

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 120) -> tuple[int, bytes]:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def run_polled(self, body: bytes, headers: dict) -> tuple[str, bytes | str]:
        """Submits without a socket and polls: ("COMPLETED", result) or ("ERROR", text)."""
        status, reply = self.call("POST", "/request", body, headers)
        if status != 200:
            return "REFUSED", f"{status} {reply[:200]!r}"
        r = json.loads(reply)
        if r["status"] == "ERROR":
            return "ERROR", r["description"]
        while True:
            status, reply = self.call("GET", f"/response/{r['id']}")
            if status == 200:
                u = json.loads(reply)
                if u["status"] == "COMPLETED":
                    url = u["data"]
                    path = url[url.index("/result"):] if url else f"/result/{r['id']}"
                    code, blob = self.call("GET", path)
                    return ("COMPLETED", blob) if code == 200 else ("ERROR", f"download {code}")
                if u["status"] == "ERROR":
                    return "ERROR", u["description"]
            time.sleep(0.02)


def proc_figures(pid: int) -> tuple[int, int]:
    """(RSS bytes, open file descriptors) of the server."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    release = os.path.join(ROOT, "target", "release", "localndif")
    p.add_argument("--binary", default=release if os.path.exists(release) else os.path.join(ROOT, "target", "debug", "localndif"))
    p.add_argument("--seconds", type=float, default=600)
    args = p.parse_args(argv)
    # record() works in a directory of its own: a relative --binary (the Makefile's) is
    # the checkout's.
    args.binary = os.path.abspath(args.binary)
    payloads = record()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        # Results and statuses are kept by design (an hour, up to 1 GiB, by default): the
        # soak keeps them briefly and small so that what it measures from the middle on is
        # the server's steady state, where any growth is a leak.
        [args.binary, "serve", "--port", str(port), "--timeout", "5", "--workers", "2", "--header-timeout", "2",
         "--result-ttl", "30", "--result-budget", str(64 << 20)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    server.stdout.readline()
    threading.Thread(target=lambda: server.stdout.read(), daemon=True).start()
    h = Http(port)
    # The socket.io generation: nnsight 0.5.13's recorded trace (it names the served model).
    with open(os.path.join(ROOT, "fixtures", "captures", "v0.5.13", "c01_save_output", "request.blob"), "rb") as f:
        g1 = (f.read(), {"Content-Type": "application/octet-stream", "nnsight-model-key": G1_KEY, "nnsight-version": "0.5.13", "nnsight-zlib": "True"})

    def g2(name: str, session: str = "") -> tuple[bytes, dict]:
        body, ctype = g2_body(payloads[name], session)
        return body, {"Content-Type": ctype, "nnsight-version": "0.8.1"}

    solo = {name: h.run_polled(*g2(name)) for name in NORMAL}
    solo_g1 = h.run_polled(*g1)
    for name, (status, _) in {**solo, "g1": solo_g1}.items():
        if status != "COMPLETED":
            sys.exit(f"soak: the normal job '{name}' does not run alone: {status}")

    stop = threading.Event()
    lock = threading.Lock()
    counts: collections.Counter = collections.Counter()
    failures: list[str] = []
    latencies: list[float] = []
    pings: list[float] = []

    def note(kind: str) -> None:
        with lock:
            counts[kind] += 1

    def normal_g2() -> None:
        while not stop.is_set():
            for name in NORMAL:
                t = time.time()
                status, result = h.run_polled(*g2(name))
                with lock:
                    latencies.append(time.time() - t)
                    if status != "COMPLETED" or result != solo[name][1]:
                        failures.append(f"normal 0.8 job '{name}': {status} {str(result)[:200]}")
                note("normal job (0.8)")

    def normal_g1() -> None:
        while not stop.is_set():
            t = time.time()
            status, result = h.run_polled(*g1)
            with lock:
                latencies.append(time.time() - t)
                if status != "COMPLETED" or result != solo_g1[1]:
                    failures.append(f"normal 0.5 job: {status} {str(result)[:200]}")
            note("normal job (0.5)")

    def hostile() -> None:
        while not stop.is_set():
            for name in HOSTILE:
                status, _ = h.run_polled(*g2(name))
                note(f"hostile: {name} -> {status}")

    def bombs() -> None:
        import zstandard

        # 1 GiB of zeros in ~32 KiB, without holding the zeros.
        z = zstandard.ZstdCompressor(level=1).compressobj()
        chunk = b"\0" * (16 << 20)
        bomb = b"".join(z.compress(chunk) for _ in range(64)) + z.flush()
        while not stop.is_set():
            body, ctype = g2_body(bomb)
            status, _ = h.call("POST", "/request", body, {"Content-Type": ctype, "nnsight-version": "0.8.1"})
            note(f"bomb -> HTTP {status}")
            time.sleep(0.5)

    def bad_clients() -> None:
        import websocket

        while not stop.is_set():
            # A stalled socket: subscribes, submits a blocking job, never reads.
            ws = websocket.create_connection(f"ws://127.0.0.1:{port}/subscribe", timeout=10)
            session = json.loads(ws.recv())["session_id"]
            h.call("POST", "/request", *g2("save", session))
            note("stalled socket")
            time.sleep(1)
            # A vanishing client: the socket closes while its job runs.
            ws.close()
            note("vanished client")
            # Half-sent requests.
            held = []
            for _ in range(20):
                c = socket.create_connection(("127.0.0.1", port))
                c.sendall(b"POST /request HTTP/1.1\r\nHost: x\r\n")
                held.append(c)
            note("20 half-sent requests")
            time.sleep(1)
            for c in held:
                c.close()

    def pinger() -> None:
        while not stop.is_set():
            t = time.time()
            try:
                status, _ = h.call("GET", "/ping", timeout=5)
            except OSError as e:
                status = str(e)
            took = time.time() - t
            with lock:
                pings.append(took)
                if status != 200 or took > 1.0:
                    failures.append(f"/ping: {status} in {took:.2f} s")
            time.sleep(0.25)

    workers = [normal_g2, normal_g2, normal_g1, hostile, bombs, bad_clients, pinger]
    threads = [threading.Thread(target=w, daemon=True) for w in workers]
    figures = {"start": proc_figures(server.pid)}
    for t in threads:
        t.start()
    time.sleep(args.seconds / 2)
    figures["middle"] = proc_figures(server.pid)
    time.sleep(args.seconds / 2)
    figures["end"] = proc_figures(server.pid)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    server.terminate()
    server.wait(timeout=60)

    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] if latencies else float("nan")
    print(f"soak: {args.seconds:.0f} s against {os.path.relpath(args.binary, ROOT)}")
    for kind, n in sorted(counts.items()):
        print(f"  {n:6d}  {kind}")
    print(f"  normal jobs p99 latency {p99 * 1000:.0f} ms; /ping worst {max(pings) * 1000:.0f} ms over {len(pings)}")
    for when, (rss, fds) in figures.items():
        print(f"  {when:6s}  RSS {rss >> 20} MiB, {fds} open descriptors")
    growth = figures["end"][0] / max(figures["middle"][0], 1) - 1
    if growth > 0.10:
        failures.append(f"RSS grew {growth:.0%} from the middle to the end")
    for f in failures[:20]:
        print(f"FAIL: {f}")
    print("soak: PASS" if not failures else f"soak: FAIL ({len(failures)} problems)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
