"""Writes server/src/model/source/07/<Class>.txt: nnsight 0.7.0's listing of each supported
module's forward (`print(model.<module>.source)`). 0.7 names only a forward's calls, and
each of its names is the name 0.8.1 gives the same call (python/source_ops.py), so the
server serves a 0.7 client's `.source` from the same operations with this listing.
Run with nnsight 0.7.0 on the path (`make fixtures` does:
PYTHONPATH=.nnsight-0.7.0 .venv/bin/python python/source_ops_07.py)."""
import os
import re
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
import warnings  # noqa: E402

warnings.filterwarnings("ignore")
import nnsight  # noqa: E402
import nnsight.modeling.huggingface as hf  # noqa: E402
from nnsight import LanguageModel  # noqa: E402

if not nnsight.__version__.startswith("0.7"):
    sys.exit(f"run with nnsight 0.7 on the path (PYTHONPATH=.nnsight-0.7.0), not {nnsight.__version__}")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "server", "src", "model", "source", "07")
MODELS = {
    "tiny-gpt2": ["transformer.h.0.attn", "transformer.h.0.mlp"],
    "tiny-llama": ["model.layers.0.self_attn", "model.layers.0.mlp"],
}

os.makedirs(OUT, exist_ok=True)
for name, paths in MODELS.items():
    repo = os.path.join(ROOT, "fixtures", "models", name)
    hf.ID_CACHE[repo] = repo
    model = LanguageModel(repo, dispatch=True)
    for path in paths:
        envoy = model
        for part in path.split("."):
            envoy = envoy[int(part)] if part.isdigit() else getattr(envoy, part)
        listing = str(envoy.source)
        labels = [m.group(1) for line in listing.splitlines() if (m := re.match(r"^\s*([A-Za-z_]\w*)\s+->\s", line))]
        cls = type(envoy._module).__name__
        with open(os.path.join(OUT, f"{cls}.txt"), "w") as f:
            f.write(listing)
            if not listing.endswith("\n"):
                f.write("\n")
        print(f"{cls}: {len(labels)} operations (0.7)", file=sys.stderr)
