"""A minimal NDIF-compatible server in Python, used to test the conformance drivers.

Owner: conformance/drivers/. This is NOT localndif. It checks the harness itself: when
nnsight_case.py --mode remote runs against this server, compare.py must say PASS, because
this server runs each request through nnsight's own server-side path
(`RequestModel.deserialize` + `tracer.execute`) on the dispatched model. A WRONG or FAIL
against it means the drivers or a case are broken, not the Rust server.

Usage:
    python reference_server.py --model REPO=DIR [--model REPO=DIR ...] [--port 8002]

It speaks the nnsight 0.8.x (G2) protocol with the standard library only (no uvicorn,
no websockets package):
    GET  /subscribe     websocket; first text frame {"session_id": ...}, then status frames
    POST /request       multipart form: `data` (JSON RequestModel envelope) + file `blob`;
                        answers a JSON RECEIVED ResponseModel, then runs the job in a thread
                        (blocking when session_id names a socket, else non-blocking)
    GET  /response/ID   the job's latest non-LOG status (JSON; 404 while unknown)
    GET  /results/ID    the result blob
    GET  /ping          "pong"
Each job's statuses go to the request's session websocket, if any: RUNNING, a LOG per line
the code prints (JSON text frames), then COMPLETED — as a binary frame holding
torch.save({'id','status','description','data': blob, 'meta'}) for results up to 8 MiB
(blob = zstd(torch.save(saves)) when the envelope says compress), else as JSON with the
result URL — or ERROR (JSON, the traceback as its description, ending `Type: message`).
One job runs at a time (a lock); parameter gradients are cleared after each job, as a
server that keeps one model for many jobs must.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import queue
import socket
import struct
import sys
import tempfile
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ["NNSIGHT_CONFIG"] = os.devnull

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

MODELS: dict = {}  # repo id -> dispatched LanguageModel
SESSIONS: dict[str, queue.Queue] = {}
RUN_LOCK = threading.Lock()
JOBS: dict[str, dict] = {}  # job id -> {"latest": status dict, "result": bytes | None}
INLINE_MAX = 8 << 20


# ------------------------------------------------------------------ websocket


def ws_send(sock: socket.socket, payload: bytes, opcode: int) -> None:
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    sock.sendall(header + payload)


def ws_recv(rfile) -> tuple[int, bytes] | None:
    """Read one (masked, client) frame; None at EOF."""
    head = rfile.read(2)
    if len(head) < 2:
        return None
    opcode, n = head[0] & 0x0F, head[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", rfile.read(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", rfile.read(8))[0]
    mask = rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(rfile.read(n)))
    return opcode, data


# --------------------------------------------------------------------- jobs


def _tensors(value, seen=None):
    """The tensors inside a saved value (nested lists, tuples, dicts; cycles visited once)."""
    import torch

    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _tensors(v, seen)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _tensors(v, seen)


class LogLines(io.TextIOBase):
    """stdout while a job runs: each printed line becomes a LOG status."""

    def __init__(self, emit) -> None:
        self.emit, self.pending = emit, ""

    def write(self, text: str) -> int:
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            self.emit(line)
        return len(text)


def run_job(job_id: str, envelope: dict, blob: bytes, out: queue.Queue | None, base_url: str) -> None:
    import contextlib

    import torch
    from nnsight.schema.request import RequestModel
    from nnsight.tracing import tracer as tracing

    def emit(kind: str, payload, latest: dict | None = None) -> None:
        if latest is not None:
            JOBS[job_id]["latest"] = latest
        if out is not None:
            out.put((kind, payload))

    def status(name: str, description: str, **extra) -> None:
        body = {"id": job_id, "status": name, "description": description, "data": None, **extra}
        emit("text", json.dumps(body), None if name == "LOG" else body)

    received = time.time()
    try:
        key = envelope["model_key"]
        repo = json.loads(key.split(":", 1)[1])["repo_id"]
        if repo not in MODELS:
            raise ValueError(f"model {repo!r} is not served here")
        model = MODELS[repo]
        with RUN_LOCK:
            status("RUNNING", "Your job has started running.")
            started = time.time()
            tracer = RequestModel.deserialize(
                blob, model._remoteable_persistent_objects(), compress=envelope.get("compress", False)
            )
            frame = tracer.info.frame
            before = dict(frame.f_locals)
            tracing.inc()  # depth 1: the outermost trace pushes only saved values
            try:
                with contextlib.redirect_stdout(LogLines(lambda line: status("LOG", line))):
                    tracer.execute(tracer.info.code)
            finally:
                tracing.dec()
                for p in model._module.parameters():
                    p.grad = None
            saves = {k: v for k, v in frame.f_locals.items() if k not in before or before[k] is not v}
        buf = io.BytesIO()
        torch.save(saves, buf)
        data = buf.getvalue()
        if envelope.get("compress", False):
            import zstandard as zstd

            data = zstd.ZstdCompressor(level=6).compress(data)
        JOBS[job_id]["result"] = data
        # On CPU, at least what the job hands back was held at once.
        held = sum(t.numel() * t.element_size() for t in _tensors(saves))
        meta = {"runtime": time.time() - started, "server_time": time.time() - received,
                "max_memory_usage": held, "max_mem_by_gpu": {}, "max_mem_pct_by_gpu": {}}
        done = {"id": job_id, "status": "COMPLETED", "description": "Your job has been completed.",
                "data": f"{base_url}/results/{job_id}", "meta": meta}
        if out is not None and len(data) <= INLINE_MAX:
            frame_buf = io.BytesIO()
            torch.save({**done, "data": data}, frame_buf, pickle_protocol=4)
            emit("binary", frame_buf.getvalue(), done)
        else:
            emit("text", json.dumps(done), done)
    except Exception as exc:  # noqa: BLE001 - reported to the client as ERROR, as NDIF does
        traceback.print_exc()
        status("ERROR", traceback.format_exc())


# --------------------------------------------------------------------- HTTP


def parse_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    boundary = None
    for part in content_type.split(";"):
        part = part.strip()
        if part.startswith("boundary="):
            boundary = part[len("boundary="):].strip('"')
    if boundary is None:
        raise ValueError("no multipart boundary")
    fields: dict[str, bytes] = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.partition(b"\r\n\r\n")
        content = content[:-2] if content.endswith(b"\r\n") else content
        for line in head.decode("latin-1").split("\r\n"):
            if line.lower().startswith("content-disposition:"):
                for item in line.split(";"):
                    item = item.strip()
                    if item.startswith("name="):
                        fields[item[5:].strip('"')] = content
    return fields


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args) -> None:  # quieter: one line per request on stderr
        sys.stderr.write("reference_server: " + (fmt % args) + "\n")

    def reply(self, code: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/ping":
            return self.reply(200, b"pong", "text/plain")
        for prefix in ("/response/", "/results/"):
            if self.path.startswith(prefix):
                job = JOBS.get(self.path[len(prefix):])
                if job is None:
                    return self.reply(404, json.dumps({"detail": "no such job"}).encode())
                if prefix == "/response/":
                    return self.reply(200, json.dumps(job["latest"]).encode())
                if job["result"] is None:
                    return self.reply(404, json.dumps({"detail": "no result yet"}).encode())
                return self.reply(200, job["result"], "application/octet-stream")
        if self.path.startswith("/subscribe") and self.headers.get("Upgrade", "").lower() == "websocket":
            return self.subscribe()
        self.reply(404, b'{"detail": "not found"}')

    def subscribe(self) -> None:
        key = self.headers["Sec-WebSocket-Key"]
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        session = uuid.uuid4().hex
        q: queue.Queue = queue.Queue()
        SESSIONS[session] = q
        sock = self.connection
        closed = threading.Event()

        def reader() -> None:  # drain client frames until close/EOF
            while True:
                frame = ws_recv(self.rfile)
                if frame is None or frame[0] == 0x8:
                    break
            closed.set()
            q.put(None)

        threading.Thread(target=reader, daemon=True).start()
        try:
            ws_send(sock, json.dumps({"session_id": session}).encode(), 0x1)
            while True:
                item = q.get()
                if item is None:
                    break
                kind, payload = item
                if kind == "text":
                    ws_send(sock, payload.encode(), 0x1)
                else:
                    ws_send(sock, payload, 0x2)
            if closed.is_set():
                try:
                    ws_send(sock, b"\x03\xe8", 0x8)
                except OSError:
                    pass
        except OSError:
            pass
        finally:
            SESSIONS.pop(session, None)
            self.close_connection = True

    def do_POST(self) -> None:
        if self.path != "/request":
            return self.reply(404, b'{"detail": "not found"}')
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            fields = parse_multipart(self.headers.get("Content-Type", ""), body)
            envelope = json.loads(fields["data"])
            blob = fields["blob"]
        except Exception as exc:  # noqa: BLE001
            return self.reply(400, json.dumps({"detail": f"bad request: {exc}"}).encode())
        job_id = uuid.uuid4().hex
        out = SESSIONS.get(envelope.get("session_id", ""))
        received = {"id": job_id, "status": "RECEIVED", "description": "Your job has been received.", "data": None}
        JOBS[job_id] = {"latest": received, "result": None}
        self.reply(200, json.dumps(received).encode())
        base_url = "http://" + self.headers.get("Host", f"127.0.0.1:{self.server.server_address[1]}")
        threading.Thread(target=run_job, args=(job_id, envelope, blob, out, base_url), daemon=True).start()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", required=True, help="REPO=DIR")
    p.add_argument("--port", type=int, default=8002)
    args = p.parse_args(argv)

    import warnings

    import nnsight
    import nnsight.modeling.huggingface as hf
    from nnsight import LanguageModel

    warnings.filterwarnings("ignore", category=nnsight.NNsightDeprecationWarning)
    tmp = tempfile.mkdtemp(prefix="localndif-refserver-")
    for spec in args.model:
        repo, _, path = spec.partition("=")
        link = os.path.join(tmp, repo)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.abspath(path), link)
    os.chdir(tmp)
    for spec in args.model:
        repo = spec.partition("=")[0]
        hf._ID_CACHE[repo] = repo
        MODELS[repo] = LanguageModel(repo, dispatch=True)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"reference_server: serving {sorted(MODELS)} on http://127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
