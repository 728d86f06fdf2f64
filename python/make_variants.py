"""Writes checkpoint variants of the tiny Llama fixture for the loader's tests (not committed;
the e2e test runs this into target/): a tied-head model and a sharded bfloat16 one.

Usage: python python/make_variants.py OUT_DIR

    OUT_DIR/tiny-llama-tied/         tie_word_embeddings=True, no lm_head.weight stored
    OUT_DIR/tiny-llama-bf16-sharded/ bfloat16 weights in several model-0000x-of-0000y.safetensors
                                     shards with a model.safetensors.index.json
"""

import os
import shutil
import sys

import torch
from transformers import AutoModelForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "fixtures", "models", "tiny-llama")
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json"]


def copy_tokenizer(dst: str) -> None:
    for f in TOKENIZER_FILES:
        shutil.copy(os.path.join(SRC, f), os.path.join(dst, f))


def main(out: str) -> int:
    os.makedirs(out, exist_ok=True)
    tied = os.path.join(out, "tiny-llama-tied")
    model = AutoModelForCausalLM.from_pretrained(SRC)
    model.config.tie_word_embeddings = True
    model.lm_head.weight = model.model.embed_tokens.weight
    model.save_pretrained(tied, safe_serialization=True)
    copy_tokenizer(tied)

    sharded = os.path.join(out, "tiny-llama-bf16-sharded")
    model = AutoModelForCausalLM.from_pretrained(SRC, dtype=torch.bfloat16)
    model.save_pretrained(sharded, safe_serialization=True, max_shard_size="100KB")
    copy_tokenizer(sharded)
    for d in (tied, sharded):
        print(d, sorted(os.listdir(d)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
