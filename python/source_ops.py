"""Writes server/src/model/source/<Class>.txt: nnsight's listing of each supported module's
forward (`print(model.<module>.source)`), whose first column names every operation nnsight
instruments (`Source.names`, in order). The server prints the listing for `module.source`
and serves the operations its own forward performs under those names (docs/semantics.md
§7.3). The forwards are transformers' (the pinned version); re-run with `make fixtures`
after changing the pinned transformers or nnsight.

Run with nnsight 0.7 on the path (`PYTHONPATH=.nnsight-0.7.0`), it writes 0.7's listings to
server/src/model/source/07/ instead: 0.7 names only a forward's calls, each numbered among
calls, and the server maps them to the same operations (`model::source::op_07`)."""
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

V07 = nnsight.__version__.startswith("0.7")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "server", "src", "model", "source", *(["07"] if V07 else []))
MODELS = {
    "tiny-gpt2": ["transformer.h.0.attn", "transformer.h.0.mlp"],
    "tiny-llama": ["model.layers.0.self_attn", "model.layers.0.mlp"],
    "tiny-neox": ["gpt_neox.layers.0.attention", "gpt_neox.layers.0.mlp"],
    "tiny-qwen3": ["model.layers.0.self_attn", "model.layers.0.mlp"],
    "tiny-gemma2": ["model.layers.0.self_attn", "model.layers.0.mlp"],
    "tiny-olmo2": ["model.layers.0.self_attn", "model.layers.0.mlp"],
    "tiny-gemma": ["model.layers.0.self_attn", "model.layers.0.mlp"],
    "tiny-phi3": ["model.layers.0.self_attn", "model.layers.0.mlp"],
    "tiny-gemma3": ["model.layers.0.self_attn", "model.layers.0.mlp"],
    "tiny-gptj": ["transformer.h.0.attn", "transformer.h.0.mlp"],
    "tiny-mistral": ["model.layers.0.self_attn", "model.layers.0.mlp"],
    "tiny-qwen2": ["model.layers.0.self_attn", "model.layers.0.mlp"],
}

os.makedirs(OUT, exist_ok=True)
for name, paths in MODELS.items():
    repo = os.path.join(ROOT, "fixtures", "models", name)
    (hf.ID_CACHE if V07 else hf._ID_CACHE)[repo] = repo
    model = LanguageModel(repo, dispatch=True)
    for path in paths:
        envoy = model
        for part in path.split("."):
            envoy = envoy[int(part)] if part.isdigit() else getattr(envoy, part)
        source = envoy.source
        listing = str(source)
        # The rule the server parses with (model::source): a label, spaces, then `->`.
        labels = [m.group(1) for line in listing.splitlines() if (m := re.match(r"^\s*([A-Za-z_]\w*)\s+->\s", line))]
        # Source.names is execution order; the listing is line order. They differ only where
        # a call inside a multi-line call's arguments sits on a later line (Phi-3's
        # `sliding_window=getattr(self.config, ...)`): the server runs it first, and
        # every_fixture_family_runs_its_listed_operations_in_order allows that one swap.
        if not V07 and sorted(labels) != sorted(source.names):
            sys.exit(f"{path}: the listing's operations {labels} are not Source.names {list(source.names)}")
        cls = type(envoy._module).__name__
        with open(os.path.join(OUT, f"{cls}.txt"), "w") as f:
            f.write(listing)
            if not listing.endswith("\n"):
                f.write("\n")
        print(f"{cls}: {len(labels)} operations{' (0.7)' if V07 else ''}", file=sys.stderr)
