"""Writes fuzz/corpus/<target>/: the seed corpora of the cargo-fuzz targets, from the
captured client payloads and results in fixtures/captures (run with the project's .venv:
`.venv/bin/python fuzz/seed.py`; `make fixtures` does)."""
import glob
import os
import shutil
import zlib

import zstandard

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def put(target: str, name: str, data: bytes) -> None:
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


shutil.rmtree(CORPUS, ignore_errors=True)
for p in sorted(glob.glob(os.path.join(ROOT, "fixtures/captures/v*/c*/request.blob"))):
    version, case = p.split(os.sep)[-3:-1]
    with open(p, "rb") as f:
        blob = f.read()
    if version.startswith("v0.5."):
        # nnsight 0.5 sends zlib: a G1 body of its own.
        put("pickle", f"{version}_{case}", zlib.decompress(blob))
        put("g1_body", f"{version}_{case}", blob)
    else:
        put("pickle", f"{version}_{case}", zstandard.ZstdDecompressor().decompressobj().decompress(blob))
        put("zstd", f"{version}_{case}", blob)
        put("g1_body" if version == "v0.7.0" else "g2_request", case, blob)
    snippet = os.path.join(os.path.dirname(p), "snippet.py")
    if os.path.exists(snippet):
        with open(snippet, "rb") as f:
            put("interpret", f"{version}_{case}", f.read())
for p in sorted(glob.glob(os.path.join(ROOT, "fixtures/captures/responses/**/*.pt"), recursive=True)):
    with open(p, "rb") as f:
        put("torch_archive", os.path.basename(p), f.read())
for i in range(8):
    put("torch_roundtrip", f"seed{i}", bytes((i * 37 + j * 11) % 256 for j in range(64)))
