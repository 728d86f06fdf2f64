"""Speed of localndif against local nnsight and plain transformers, measured in one run.

Usage: make bench   (or: python python/bench.py [--binary target/release/localndif])

Builds a GPT-2-small-shaped model (12 layers, 768 wide) with random weights into
target/bench/ on first use (not committed), starts the server on it, and prints:

* a trace that saves all 12 block outputs: the server's own execution time (COMPLETED
  `meta.runtime`) next to the same trace run by local nnsight and a plain HF forward;
* 32 generated tokens: tokens per second on the server vs transformers' `generate`;
* latency: the tiny fixture trace with one save, round trip as the nnsight 0.8.1 client
  sees it, split into the client's own work (serializing the request, decoding the
  result), the server's (COMPLETED `meta.server_time`: from the request's arrival to its
  COMPLETED message) and transport (the rest: WebSocket, POST, frames); next to the same
  code run by local nnsight, and the round trip against a Python server that sends results
  inline on one WebSocket (conformance/drivers/reference_server.py), all in this run.

Medians of several runs after a warm-up. Targets (issues "Generation ... real
checkpoints" and "Both client generations on one server"): trace <= 1.0x a plain HF
forward and <= 0.8x HF+nnsight; generation >= HF's tokens/s; latency: server part <= 0.5x
the local trace, round trip <= the Python server's. Standard library + torch +
transformers + nnsight.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
REPO = "bench/gpt2-small"
PROMPT = "The Eiffel Tower is in the city of Paris, which is the capital of France and"
RUNS = 15


def model_dir() -> str:
    d = os.path.join(ROOT, "target", "bench", "gpt2-small")
    if os.path.exists(os.path.join(d, "model.safetensors")):
        return d
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config()).eval()
    model.save_pretrained(d, safe_serialization=True)
    src = os.path.join(ROOT, "fixtures", "models", "tiny-gpt2")
    # The tiny fixture's tokenizer (vocab 1000) fits in GPT-2's 50257 ids.
    for f in ("tokenizer.json", "tokenizer_config.json"):
        with open(os.path.join(src, f), "rb") as a, open(os.path.join(d, f), "wb") as b:
            b.write(a.read())
    return d


def median_time(fn, runs: int = RUNS) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


TINY = "localndif/tiny-gpt2"
LATENCY_RUNS = 40


def latency(url: str, reference_url: str) -> tuple[float, tuple[float, float, float], float, float]:
    """Round trip and its (client, transport, server) split against localndif, the
    round trip against the Python reference server, and the local trace (medians)."""
    import nnsight
    from nnsight import LanguageModel
    from nnsight.intervention.backends.remote import RemoteBackend

    remote = LanguageModel(TINY, tokenizer=TINY)
    local = LanguageModel(TINY, dispatch=True)
    spent = [0.0]

    def timed(name: str) -> None:
        original = getattr(RemoteBackend, name)

        def wrapper(self, *args, **kwargs):
            t = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t

        setattr(RemoteBackend, name, wrapper)

    # The client's own work: serializing the request and decoding the result.
    for name in ("_serialize", "finalize"):
        timed(name)

    def once(host):
        spent[0] = 0.0
        t = time.perf_counter()
        with remote.trace(PROMPT, remote=host) as tracer:
            h = remote.transformer.h[0].output.save()
        return time.perf_counter() - t, spent[0], tracer.backend.meta

    rows = []
    once(url)
    for _ in range(LATENCY_RUNS):
        total, client, meta = once(url)
        server = meta["server_time"]
        rows.append((total, client, total - client - server, server))
    once(reference_url)
    reference = statistics.median(once(reference_url)[0] for _ in range(LATENCY_RUNS))

    def local_trace():
        with local.trace(PROMPT):
            h = local.transformer.h[0].output.save()

    local_time = median_time(local_trace, runs=LATENCY_RUNS)
    med = [statistics.median(r[i] for r in rows) for i in range(4)]
    return med[0], (med[1], med[2], med[3]), reference, local_time


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "localndif"))
    args = p.parse_args(argv)
    # The server's address must be in the environment before huggingface_hub is imported.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp(prefix="localndif-bench-")
    os.environ.update(NDIF_HOST=url, HF_ENDPOINT=url, HF_HOME=os.path.join(tmp, "hf"), NNSIGHT_CONFIG=os.devnull)
    d = model_dir()
    tiny_dir = os.path.join(ROOT, "fixtures", "models", "tiny-gpt2")
    server = subprocess.Popen(
        [args.binary, "serve", "--port", str(port), "--model", f"{REPO}={d}", "--model", f"{TINY}={tiny_dir}"],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, RUST_LOG="warn"),  # no line per request and job
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        ref_port = s.getsockname()[1]
    reference = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "conformance", "drivers", "reference_server.py"),
         "--model", f"{TINY}={tiny_dir}", "--port", str(ref_port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server.stdout.readline()
        reference.stdout.readline()
        import torch
        import nnsight
        from nnsight import CONFIG, LanguageModel

        CONFIG.APP.REMOTE_LOGGING = False
        torch.set_grad_enabled(False)
        remote = LanguageModel(REPO, tokenizer=REPO)
        local = LanguageModel(REPO, dispatch=True)
        hf = local._module

        def trace(model, is_remote):
            with model.trace(PROMPT, remote=is_remote) as tracer:
                hs = nnsight.save([model.transformer.h[i].output for i in range(12)])
            return tracer

        server_times = []

        def remote_trace():
            t = trace(remote, True)
            server_times.append(t.backend.meta["runtime"])

        median_time(remote_trace)
        server_trace = statistics.median(server_times[1:])
        local_trace = median_time(lambda: trace(local, False))
        inputs = local.tokenizer(PROMPT, return_tensors="pt")
        hf_forward = median_time(lambda: hf(**inputs))

        gen_times = []

        def remote_gen():
            with remote.generate(PROMPT, max_new_tokens=32, min_new_tokens=32, remote=True) as tracer:
                ids = tracer.result.save()
            gen_times.append(tracer.backend.meta["runtime"])

        median_time(remote_gen, runs=5)
        server_gen = statistics.median(gen_times[1:])
        hf_gen = median_time(lambda: hf.generate(**inputs, max_new_tokens=32, min_new_tokens=32, do_sample=False), runs=5)

        rt, parts, ref_rt, tiny_local = latency(url, f"http://127.0.0.1:{ref_port}")

        print(f"trace, 12 saves ({REPO}):")
        print(f"  localndif (server execution) {server_trace * 1e3:8.2f} ms")
        print(f"  local nnsight                {local_trace * 1e3:8.2f} ms   ratio {server_trace / local_trace:.2f} (target <= 0.8)")
        print(f"  plain HF forward             {hf_forward * 1e3:8.2f} ms   ratio {server_trace / hf_forward:.2f} (target <= 1.0)")
        print("generation, 32 tokens:")
        print(f"  localndif {32 / server_gen:8.1f} tokens/s")
        print(f"  HF        {32 / hf_gen:8.1f} tokens/s   ratio {hf_gen / server_gen:.2f} (target >= 1.0)")
        client, transport, server_part = parts
        print(f"latency, one save ({TINY}), nnsight 0.8.1 client:")
        print(f"  localndif round trip        {rt * 1e3:8.2f} ms = client {client * 1e3:.2f} + transport {transport * 1e3:.2f} + server {server_part * 1e3:.2f}")
        print(f"  Python server round trip    {ref_rt * 1e3:8.2f} ms   ratio {rt / ref_rt:.2f} (target <= 1.0)")
        print(f"  local nnsight trace         {tiny_local * 1e3:8.2f} ms   server part / local {server_part / tiny_local:.2f} (target <= 0.5)")
    finally:
        for p in (server, reference):
            p.terminate()
            p.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
