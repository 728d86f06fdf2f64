"""Records what nnsight 0.5.x clients send: one request per snippet below, captured in the
client (its RemoteBackend.request, before anything reaches a server) and written to
fixtures/captures/v<version>/<case>/ as request.blob (the body, zlib as 0.5 sends it),
request_meta.json (the headers) and snippet.py (the code that made it).

Run with a 0.5 client first on the path, from the repository root:

    PYTHONPATH=.nnsight-0.5.13 .venv/bin/python python/capture_05.py
    PYTHONPATH=.nnsight-0.5.0 .venv/bin/python python/capture_05.py

The model is the embedded fixture (fixtures/models/tiny-gpt2) named localndif/tiny-gpt2.
"""

import inspect
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import nnsight  # noqa: E402
import nnsight.modeling.language as language  # noqa: E402
from nnsight import CONFIG, LanguageModel  # noqa: E402
from nnsight.intervention.backends.remote import RemoteBackend  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REPO = "localndif/tiny-gpt2"
CASES = []


def case(fn):
    CASES.append(fn)
    return fn


class Captured(Exception):
    pass


def helper(x, k=2):
    return x * k + 1


@case
def c01_save_output():
    with model.trace("The Eiffel Tower is in the city of", remote=True):
        hidden = model.transformer.h[0].output.save()
        logits = model.lm_head.output.save()


@case
def c02_multi_invoke():
    with model.trace(remote=True) as tracer:
        with tracer.invoke("The Eiffel Tower"):
            a = model.transformer.h[1].output.save()
        with tracer.invoke("Madison Square Garden is in"):
            b = model.lm_head.output.save()


@case
def c03_generate():
    with model.generate("Hello", max_new_tokens=3, remote=True):
        out = model.generator.output.save()


@case
def c04_session():
    with model.session(remote=True):
        with model.trace("Hello"):
            a = model.transformer.h[0].output[0].save()
        with model.trace("Bye"):
            model.transformer.h[0].output[0][:] = a
            b = model.lm_head.output.save()


@case
def c05_helper_function():
    with model.trace("Hello", remote=True):
        out = helper(model.transformer.h[0].output[0]).save()


@case
def c06_edit():
    with model.edit() as edited:
        model.transformer.h[0].output[0][:] = 0
    with edited.trace("Hello", remote=True):
        logits = edited.lm_head.output.save()


def main():
    CONFIG.API.APIKEY = "capture-fake-api-key-0000"
    # The client asks the Hub for the repo's canonical id; this capture has no server.
    language.LanguageModel._remoteable_model_key = lambda self: json.dumps({"repo_id": self.repo_id, "revision": self.revision})
    captured = []

    def call(self, tracer=None):
        data, headers = self.request(tracer)
        captured.append((data, headers))
        raise Captured()

    RemoteBackend.__call__ = call
    out = ROOT / "fixtures" / "captures" / f"v{nnsight.__version__}"
    shutil.rmtree(out, ignore_errors=True)
    work = Path(tempfile.mkdtemp())
    (work / "localndif").mkdir()
    (work / "localndif" / "tiny-gpt2").symlink_to(ROOT / "fixtures" / "models" / "tiny-gpt2")
    os.chdir(work)
    global model
    model = LanguageModel(REPO)
    for fn in CASES:
        captured.clear()
        try:
            fn()
        except Captured:
            pass
        if not captured:
            sys.exit(f"{fn.__name__}: nothing was sent")
        data, headers = captured[-1]
        d = out / fn.__name__
        d.mkdir(parents=True)
        (d / "request.blob").write_bytes(data)
        (d / "request_meta.json").write_text(json.dumps({"headers": headers}, indent=2) + "\n")
        (d / "snippet.py").write_text(inspect.getsource(fn))
        print(f"{fn.__name__}: {len(data)} bytes")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
