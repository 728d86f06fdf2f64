"""Records the requests the native conformance driver sends (conformance/src/native/): one
trace that reads only the root module's output, so the same bytes run on a model of any
architecture once re-addressed to its repo id (the driver puts the repo id in the G2
envelope's model key and the G1 `nnsight-model-key` header). Captured in the client, at
the point it would POST, with no server:

    conformance/captures/g2-model-output.blob   the 0.8.1 multipart `blob` field
    conformance/captures/g2-model-output.json   its `data` field (the envelope)
    conformance/captures/g1-model-output.body   the 0.7.0 octet-stream body

Run from the repository root, once per client:

    .venv/bin/python python/capture_native.py
    PYTHONPATH=.nnsight-0.7.0 .venv/bin/python python/capture_native.py
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import nnsight  # noqa: E402
from nnsight import CONFIG, LanguageModel  # noqa: E402
from nnsight.intervention.backends.remote import RemoteBackend  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "conformance" / "captures"
REPO = "localndif/tiny-gpt2"


class Captured(Exception):
    pass


def snippet(model):
    # The root module's output only: every causal LM family has one.
    with model.trace("The Eiffel Tower is in the city of", remote=True):
        logits = model.output.logits.save()  # noqa: F841


def main() -> None:
    CONFIG.API.APIKEY = "capture-fake-api-key-0000"
    captured = {}
    g2 = hasattr(RemoteBackend, "_post")
    if g2:
        def request(self, request, tracer):
            # What RemoteBackend.request sends, without its /subscribe socket first.
            captured["envelope"] = request.metadata()
            captured["blob"] = self._serialize(tracer)
            raise Captured()

        RemoteBackend.request = request
    else:
        def call(self, tracer=None):
            data, headers = self.request(tracer)
            captured["body"] = data
            raise Captured()

        RemoteBackend.__call__ = call
    # The model key without asking the Hub (as the conformance driver does for --via dir).
    import sys

    sys.path.insert(0, str(ROOT / "conformance" / "drivers"))
    from nnsight_case import skip_model_info

    skip_model_info(REPO)
    work = Path(tempfile.mkdtemp())
    (work / "localndif").mkdir()
    (work / "localndif" / "tiny-gpt2").symlink_to(ROOT / "fixtures" / "models" / "tiny-gpt2")
    os.chdir(work)
    model = LanguageModel(REPO) if not g2 else LanguageModel(REPO, tokenizer=__import__("transformers").AutoTokenizer.from_pretrained(REPO))
    try:
        snippet(model)
    except Captured:
        pass
    shutil.rmtree(work)
    if g2:
        envelope = json.loads(captured["envelope"]) if isinstance(captured["envelope"], str) else captured["envelope"]
        envelope["session_id"] = None
        (OUT / "g2-model-output.blob").write_bytes(captured["blob"])
        (OUT / "g2-model-output.json").write_text(json.dumps(envelope) + "\n")
        print(f"nnsight {nnsight.__version__}: g2-model-output.blob {len(captured['blob'])} bytes")
    else:
        (OUT / "g1-model-output.body").write_bytes(captured["body"])
        print(f"nnsight {nnsight.__version__}: g1-model-output.body {len(captured['body'])} bytes")


if __name__ == "__main__":
    main()
