"""Per model family: the server's execution of a trace against a plain transformers forward.

Usage: make familybench   (or: python python/family_bench.py [--binary target/release/localndif]
                                                             [--family gpt2 --family llama ...])

For each family with a fixture under fixtures/models/ (tiny-<family>), writes a ~100M-parameter
model of that family into target/bench/families/<family>/ on first use (the fixture's config
scaled to 12 layers, width 768, random weights, the fixture's tokenizer; not committed),
serves them all from one server, and prints, per family, the medians of:

* the server's own execution of a trace that saves all 12 block outputs (COMPLETED
  `meta.runtime`, intra-op threads as the server advertises them);
* a plain transformers forward of the same model, built fresh with `from_pretrained`
  (no nnsight hooks on it), at the same thread count;

and their ratio against the target (issue "Every dense decoder family": <= 1.1x; the
batching issue tightens it to 1.05x). Measured in one run; reported, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FIXTURES = os.path.join(ROOT, "fixtures", "models")
OUT = os.path.join(ROOT, "target", "bench", "families")
PROMPT = "The Eiffel Tower is in the city of Paris, which is the capital of France and"
RUNS = 9
TARGET = 1.1
# Where each family keeps its blocks (nnsight's module paths).
BLOCKS = {"gpt2": "transformer.h", "gptj": "transformer.h", "gpt_neox": "gpt_neox.layers"}

# Width and depth keys across the families' configs, and their ~100M values.
SCALE = {
    "num_hidden_layers": 12, "n_layer": 12,
    "hidden_size": 768, "n_embd": 768,
    "num_attention_heads": 12, "n_head": 12,
    "intermediate_size": 2048, "n_inner": 3072,
    "head_dim": 64, "rotary_dim": 32,
}


def families() -> dict[str, str]:
    """model_type -> fixture directory, one fixture per family."""
    found = {}
    for name in sorted(os.listdir(FIXTURES)):
        cfg = os.path.join(FIXTURES, name, "config.json")
        if name.startswith("tiny-") and os.path.exists(cfg):
            with open(cfg) as f:
                found.setdefault(json.load(f)["model_type"], os.path.join(FIXTURES, name))
    return found


def scaled(model_type: str, fixture: str) -> str:
    d = os.path.join(OUT, model_type)
    if os.path.exists(os.path.join(d, "model.safetensors")):
        return d
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(fixture)
    for key, value in SCALE.items():
        if hasattr(config, key) and getattr(config, key) is not None:
            setattr(config, key, value)
    if getattr(config, "num_key_value_heads", None):
        config.num_key_value_heads = 4
    if getattr(config, "layer_types", None):
        pattern = config.layer_types
        config.layer_types = [pattern[i % len(pattern)] for i in range(12)]
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config).eval()
    model.save_pretrained(d, safe_serialization=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(fixture, f), os.path.join(d, f))
    return d


def median_time(fn, runs: int = RUNS) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "localndif"))
    p.add_argument("--family", action="append", help="only these model_types (repeatable)")
    args = p.parse_args(argv)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp(prefix="localndif-familybench-")
    # Before anything imports huggingface_hub: the server is the Hub for its models.
    os.environ.update(NDIF_HOST=url, HF_ENDPOINT=url, HF_HOME=os.path.join(tmp, "hf"), NNSIGHT_CONFIG=os.devnull)
    chosen = {t: f for t, f in families().items() if not args.family or t in args.family}
    dirs = {t: scaled(t, f) for t, f in chosen.items()}
    cmd = [args.binary, "serve", "--port", str(port)]
    for t, d in dirs.items():
        cmd += ["--model", f"bench/{t}={d}"]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=dict(os.environ, RUST_LOG="warn"))
    try:
        server.stdout.readline()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        import nnsight
        from nnsight import CONFIG, LanguageModel

        CONFIG.APP.REMOTE_LOGGING = False
        torch.set_grad_enabled(False)
        with urlopen_json(url + "/env") as env:
            threads = env["intra_op_threads"]
        print(f"trace with 12 block saves: server execution vs a fresh transformers forward (target <= {TARGET}x)")
        for t, d in dirs.items():
            repo = f"bench/{t}"
            torch.set_num_threads(int(threads.get(repo) or torch.get_num_threads()))
            remote = LanguageModel(repo, tokenizer=repo)
            blocks = remote
            for part in BLOCKS.get(t, "model.layers").split("."):
                blocks = getattr(blocks, part)
            runtimes = []

            def remote_trace():
                with remote.trace(PROMPT, remote=True) as tracer:
                    hs = nnsight.save([blocks[i].output for i in range(12)])  # noqa: F841
                runtimes.append(tracer.backend.meta["runtime"])

            median_time(remote_trace)
            server_time = statistics.median(runtimes[1:])
            hf = AutoModelForCausalLM.from_pretrained(d).eval()
            inputs = AutoTokenizer.from_pretrained(d)(PROMPT, return_tensors="pt")
            hf_time = median_time(lambda: hf(**inputs))
            ratio = server_time / hf_time
            print(f"  {t:12} server {server_time * 1e3:8.2f} ms   transformers {hf_time * 1e3:8.2f} ms   "
                  f"ratio {ratio:.2f} {'ok' if ratio <= TARGET else 'OVER'}")
    finally:
        server.terminate()
        server.wait()
    return 0


class urlopen_json:
    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self):
        import urllib.request

        with urllib.request.urlopen(self.url, timeout=30) as r:
            return json.load(r)

    def __exit__(self, *exc) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
