"""Load benchmark: C concurrent clients replay real captured nnsight 0.8.1 requests
(fixtures/captures/v0.8.1) against a localndif it starts, half of them blocking over the
/subscribe WebSocket and half non-blocking (polling /response, downloading /results), and
prints requests per second and p50/p99 latency. It also checks what matters under load:
every job ends, and every result is byte-identical to the same request run alone.

Usage: make loadbench   (or: python python/loadbench.py [--clients 32] [--jobs 20]
                         [--binary target/release/localndif] [--workers 2])
Target (issue "Operating it", this 2-core machine, tiny model, 32 clients): >= 200 req/s,
p99 < 500 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import websocket  # websocket-client, pinned with nnsight 0.8.1

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CAPTURES = os.path.join(ROOT, "fixtures", "captures", "v0.8.1")
CASES = ["c01_save_output", "c03_set_output_zero", "c05_multi_invoke", "c06_token_id_inputs"]
REPO = "openai-community/gpt2"


def request_body(case: str, session: str) -> tuple[bytes, str]:
    """The captured multipart request of `case` for `session` ("" = non-blocking)."""
    d = os.path.join(CAPTURES, case)
    with open(os.path.join(d, "request.blob"), "rb") as f:
        blob = f.read()
    with open(os.path.join(d, "request_meta.json")) as f:
        meta = json.load(f)
    data = dict(meta["data_field"], session_id=session)
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{json.dumps(data)}\r\n"
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"blob\"; filename=\"request\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + blob + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method: str, path: str, body: bytes | None = None, ctype: str | None = None) -> tuple[int, bytes]:
        headers = {"nnsight-version": "0.8.1"}
        if ctype:
            headers["Content-Type"] = ctype
        self.http.request(method, path, body=body, headers=headers)
        r = self.http.getresponse()
        return r.status, r.read()

    def submit(self, case: str, session: str) -> str:
        body, ctype = request_body(case, session)
        status, reply = self.call("POST", "/request", body, ctype)
        if status != 200:
            raise RuntimeError(f"POST /request: {status} {reply[:200]!r}")
        return json.loads(reply)["id"]

    def download(self, url: str) -> bytes:
        status, blob = self.call("GET", url[url.index("/results/"):])
        if status != 200:
            raise RuntimeError(f"download: {status}")
        return blob

    def polled(self, case: str) -> bytes:
        job = self.submit(case, "")
        while True:
            status, reply = self.call("GET", f"/response/{job}")
            if status == 200:
                r = json.loads(reply)
                if r["status"] == "COMPLETED":
                    return self.download(r["data"])
                if r["status"] == "ERROR":
                    raise RuntimeError(r["description"])
            time.sleep(0.002)

    def blocking(self, ws: websocket.WebSocket, session: str, case: str) -> bytes:
        job = self.submit(case, session)
        while True:
            op, frame = ws.recv_data()
            if op == websocket.ABNF.OPCODE_BINARY:
                # The inline COMPLETED: torch.save of the status dict with the result.
                return frame
            r = json.loads(frame)
            if r["id"] != job:
                raise RuntimeError(f"an update of another job: {r}")
            if r["status"] == "COMPLETED":
                return self.download(r["data"])
            if r["status"] == "ERROR":
                raise RuntimeError(r["description"])


def result_of(frame_or_blob: bytes) -> bytes:
    """The result blob, whether it came inline (inside a torch.save'd status) or downloaded."""
    if frame_or_blob[:4] == b"\x28\xb5\x2f\xfd":
        return frame_or_blob
    import io

    import torch

    return torch.load(io.BytesIO(frame_or_blob), weights_only=False)["data"]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "localndif"))
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--jobs", type=int, default=20, help="jobs per client")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tiny = os.path.join(ROOT, "fixtures", "models", "tiny-gpt2")
    server = subprocess.Popen(
        [args.binary, "serve", "--port", str(port), "--workers", str(args.workers), "--model", f"{REPO}={tiny}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        server.stdout.readline()
        solo = {case: result_of(Client(port).polled(case)) for case in CASES}
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def run(c: int) -> None:
            client = Client(port)
            ws = None
            try:
                if c % 2 == 0:
                    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/subscribe", timeout=120)
                    session = json.loads(ws.recv())["session_id"]
                for i in range(args.jobs):
                    case = CASES[(c + i) % len(CASES)]
                    t0 = time.perf_counter()
                    got = client.blocking(ws, session, case) if ws else client.polled(case)
                    dt = time.perf_counter() - t0
                    if result_of(got) != solo[case]:
                        raise RuntimeError(f"client {c} job {i} ({case}): the result differs from its solo run")
                    with lock:
                        latencies.append(dt)
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(f"client {c}: {type(e).__name__}: {e}")
            finally:
                if ws:
                    ws.close()

        threads = [threading.Thread(target=run, args=(c,)) for c in range(args.clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=60)
    total = args.clients * args.jobs
    lat = sorted(latencies)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3 if lat else float("nan")  # noqa: E731
    print(f"load: {args.clients} clients x {args.jobs} jobs (half blocking over /subscribe, half polling), --workers {args.workers}")
    print(f"  {len(lat)}/{total} jobs ended with their solo result in {wall:.2f} s: {len(lat) / wall:.1f} req/s")
    print(f"  latency p50 {pct(0.50):.1f} ms, p99 {pct(0.99):.1f} ms (target: >= 200 req/s, p99 < 500 ms)")
    for e in errors[:10]:
        print("  " + e)
    return 0 if not errors and len(lat) == total else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
