"""Replica start-up and trace latency: starts `localndif serve --model
meta-llama/Llama-3.1-70B=replica:fixtures/replicas/llama-3.1-70b` (80 layers, 128,256-token
vocabulary, small widths), prints how long it took to listen, then the median round trip
of a trace reading `model.model.layers[79].output` with the real nnsight 0.8.1 client.

Usage: make replicabench   (or: python python/replica_bench.py [--binary target/release/localndif])
Target (issue "Structure-faithful replicas"): loads in under 2 s, answers a trace in well
under a second on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
REPO = "meta-llama/Llama-3.1-70B"


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "localndif"))
    p.add_argument("--runs", type=int, default=10)
    args = p.parse_args(argv)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp(prefix="localndif-replica-bench-")
    os.environ.update(NDIF_HOST=url, HF_ENDPOINT=url, HF_HOME=os.path.join(tmp, "hf"), NNSIGHT_CONFIG=os.devnull,
                      NDIF_API_KEY="bench", TQDM_DISABLE="1")
    real = os.path.join(ROOT, "fixtures", "replicas", "llama-3.1-70b")
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [args.binary, "serve", "--port", str(port), "--model", f"{REPO}=replica:{real}"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        server.stdout.readline()
        startup = time.perf_counter() - t0
        import warnings

        warnings.filterwarnings("ignore")
        from nnsight import CONFIG, LanguageModel

        CONFIG.APP.REMOTE_LOGGING = False
        model = LanguageModel(REPO, tokenizer=REPO)
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            with model.trace("The Eiffel Tower is in the city of", remote=True):
                h = model.model.layers[79].output.save()
            times.append(time.perf_counter() - t)
        assert tuple(h.shape) == (1, 8, 64), h.shape
    finally:
        server.terminate()
        server.wait(timeout=60)
    print(f"replica of {REPO} (80 layers, 128,256 tokens, hidden 64):")
    print(f"  start-up to listening  {startup:6.2f} s   (target < 2 s)")
    print(f"  trace round trip       {statistics.median(times) * 1e3:6.1f} ms median of {args.runs} (target well under 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
