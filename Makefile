# localndif — the two commands in README.md are `make serve` and `make test`.
#
# Everything they need is installed here: the pinned Python environment in .venv (torch
# 2.13.0 provides libtorch for tch; nnsight 0.8.1 is the client under test and the oracle)
# and the Rust build. To keep CI and fresh clones fast, .venv and target/ are symlinks into
# a cache ($(LOCALNDIF_CACHE)) keyed by the requirements' hash; set LOCALNDIF_CACHE= (empty)
# to keep plain directories in the checkout instead.

SHELL := /bin/bash
.DEFAULT_GOAL := help

LOCALNDIF_CACHE ?= $(HOME)/.cache/localndif
PYTHON ?= python3
REQS := python/requirements.txt
REQS_HASH := $(shell sha256sum $(REQS) | cut -c1-12)
VENV_STAMP := .venv/.installed-$(REQS_HASH)
# The oracle's extra libraries (einops), on top of the venv without changing its hash.
ORACLE_REQS := python/requirements-oracle.txt
ORACLE_HASH := $(shell sha256sum $(ORACLE_REQS) | cut -c1-12)
ORACLE_STAMP := .venv/.installed-oracle-$(ORACLE_HASH)
G1_REQS := python/requirements-g1.txt python/requirements-g1-deps.txt
G1_HASH := $(shell cat $(G1_REQS) | sha256sum | cut -c1-12)
G1_STAMP := .nnsight-0.7.0/.installed-$(G1_HASH)
# The nnsight 0.5.x clients (python/requirements-g05.txt): each version alone in
# .nnsight-<version>, their shared light dependencies in .nnsight-0.5-deps.
G05_VERSIONS := 0.5.0 0.5.10 0.5.13 0.5.15
G05_REQS := python/requirements-g05.txt
G05_HASH := $(shell sha256sum $(G05_REQS) | cut -c1-12)
G05_STAMPS := $(G05_VERSIONS:%=.nnsight-%/.installed-$(G05_HASH)) .nnsight-0.5-deps/.installed-$(G05_HASH)
# The cluster tests' S3-compatible server (moto's), in a venv of its own.
S3_REQS := python/requirements-s3.txt
S3_HASH := $(shell sha256sum $(S3_REQS) | cut -c1-12)
S3_STAMP := .s3venv/.installed-$(S3_HASH)
CARGO ?= cargo
JOBS ?= 2
PORT ?= 8001
COMMA := ,

# libtorch from the venv's torch (the pinned wheel ships it). Resolved through the
# symlink so the value is the same for every clone and torch-sys is not rebuilt.
export LIBTORCH = $(realpath .venv)/lib/python3.11/site-packages/torch
export LIBTORCH_CXX11_ABI = 1

.PHONY: help serve test build wheel _wheel venv cluster-deps browser-deps fixtures conformance bench loadbench conformancebench familybench soak replicabench fuzz clean

help:
	@echo "make serve   start the server on the embedded tiny fixture models (port $(PORT))"
	@echo "make test    run every test (installs .venv and builds first)"
	@echo "make build   release binary at target/release/localndif"
	@echo "make wheel   the pip-installable wheel (binary, Python API, pytest plugin) in target/wheels/"
	@echo "make bench   speed of the server against local nnsight and transformers"
	@echo "make loadbench  req/s and p50/p99 latency with 32 concurrent clients"
	@echo "make conformancebench  time of the whole suite per driver (embedded and a 12-layer GPT-2)"
	@echo "make familybench  per family: server trace vs a plain transformers forward (~100M models)"
	@echo "make soak    ten minutes of mixed and hostile clients against one server"
	@echo "make fuzz    every cargo-fuzz target for FUZZ_RUNS inputs (default 1M)"
	@echo "make replicabench  start-up and trace latency of a Llama-3.1-70B replica"
	@echo "make fixtures  regenerate the recorded fixtures (models, CPython answers, module names)"

venv: $(VENV_STAMP) $(ORACLE_STAMP) $(G1_STAMP) $(G05_STAMPS)

$(ORACLE_STAMP): $(ORACLE_REQS) $(VENV_STAMP)
	.venv/bin/pip install -q -r $(ORACLE_REQS)
	touch $(ORACLE_STAMP)

# $(call pip_target,NAME,HASH,INSTALL): a folder of packages installed with
# `pip install --target`: the shell commands INSTALL fill "$$dest" with them, which is
# $(LOCALNDIF_CACHE)/NAME-HASH (linked as .NAME, and reused by every clone) or .NAME itself
# when LOCALNDIF_CACHE is empty. Nothing is installed when that HASH is there already.
define pip_target
@set -euo pipefail; \
if [ -n "$(LOCALNDIF_CACHE)" ]; then dest="$(LOCALNDIF_CACHE)/$(1)-$(2)"; else dest=.$(1); fi; \
if [ ! -e "$$dest/.installed-$(2)" ]; then \
  rm -rf "$$dest" && mkdir -p "$$dest"; \
  $(3); \
  touch "$$dest/.installed-$(2)"; \
fi; \
if [ -n "$(LOCALNDIF_CACHE)" ]; then \
  if [ -d .$(1) ] && [ ! -L .$(1) ]; then rm -rf .$(1); fi; \
  ln -sfn "$$dest" .$(1); \
fi
endef

# nnsight 0.7.0 beside 0.8.1 (python/requirements-g1.txt), for the G1 protocol tests.
$(G1_STAMP): $(G1_REQS) $(VENV_STAMP)
	$(call pip_target,nnsight-0.7.0,$(G1_HASH),\
	  .venv/bin/pip install -q --no-deps --target "$$dest" -r python/requirements-g1.txt; \
	  .venv/bin/pip install -q --target "$$dest" -r python/requirements-g1-deps.txt)

# nnsight 0.5.x (issue 19): each pinned version alone, the dependencies once; the lines of
# python/requirements-g05.txt after its "--no-deps group" comment without theirs.
$(G05_VERSIONS:%=.nnsight-%/.installed-$(G05_HASH)): .nnsight-%/.installed-$(G05_HASH): $(G05_REQS) $(VENV_STAMP)
	$(call pip_target,nnsight-$*,$(G05_HASH),\
	  .venv/bin/pip install -q --no-deps --target "$$dest" nnsight==$*)

.nnsight-0.5-deps/.installed-$(G05_HASH): $(G05_REQS) $(VENV_STAMP)
	$(call pip_target,nnsight-0.5-deps,$(G05_HASH),\
	  .venv/bin/pip install -q --target "$$dest" -r <(sed '/^# --no-deps group/$(COMMA)$$d' $(G05_REQS)); \
	  .venv/bin/pip install -q --no-deps --upgrade --target "$$dest" -r <(sed -n '/^# --no-deps group/$(COMMA)$$p' $(G05_REQS)))

$(VENV_STAMP): $(REQS)
	@set -euo pipefail; \
	if [ -n "$(LOCALNDIF_CACHE)" ]; then \
	  dest="$(LOCALNDIF_CACHE)/venv-$(REQS_HASH)"; \
	  if [ ! -e "$$dest/.installed-$(REQS_HASH)" ]; then \
	    rm -rf "$$dest" && mkdir -p "$(LOCALNDIF_CACHE)"; \
	    $(PYTHON) -m venv "$$dest"; \
	    "$$dest/bin/pip" install -q --upgrade pip; \
	    "$$dest/bin/pip" install -q -r $(REQS); \
	    touch "$$dest/.installed-$(REQS_HASH)"; \
	  fi; \
	  if [ -d .venv ] && [ ! -L .venv ]; then rm -rf .venv; fi; \
	  ln -sfn "$$dest" .venv; \
	else \
	  [ -x .venv/bin/python ] || $(PYTHON) -m venv .venv; \
	  .venv/bin/pip install -q --upgrade pip; \
	  .venv/bin/pip install -q -r $(REQS); \
	  touch $(VENV_STAMP); \
	fi
	@if [ -n "$(LOCALNDIF_CACHE)" ] && [ ! -e target ]; then \
	  mkdir -p "$(LOCALNDIF_CACHE)/target" && ln -sfn "$(LOCALNDIF_CACHE)/target" target; fi

# What the cluster tests start (conformance/tests/cluster.rs): redis-server from Debian's
# packages and moto's S3 server from PyPI. Installed when missing; if that fails here the
# tests say so and are skipped (LOCALNDIF_CLUSTER_SKIP), never silently.
cluster-deps: $(S3_STAMP)
	@command -v redis-server >/dev/null || { \
	  echo "installing redis-server (Debian package) for the cluster tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ]; then \
	    $$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null 2>&1 \
	    || { $$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null 2>&1; } \
	    || echo "WARNING: could not install redis-server: the cluster tests will be skipped"; \
	  else echo "WARNING: not root and no sudo: cannot install redis-server; the cluster tests will be skipped"; fi; }

# Debian's chromium, for the test that renders the conformance report page
# (conformance/tests/report_page.rs); skipped with a message if it cannot be installed.
browser-deps:
	@command -v chromium >/dev/null || { \
	  echo "installing chromium (Debian package) for the report page test"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; else SUDO=none; fi; \
	  if [ "$$SUDO" != none ]; then \
	    $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
	    || { $$SUDO apt-get update -qq >/dev/null 2>&1 && $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; } \
	    || echo "WARNING: could not install chromium: the report page test will be skipped"; \
	  else echo "WARNING: not root and no sudo: cannot install chromium; the report page test will be skipped"; fi; }

$(S3_STAMP): $(S3_REQS)
	@set -uo pipefail; \
	if [ -n "$(LOCALNDIF_CACHE)" ]; then dest="$(LOCALNDIF_CACHE)/s3venv-$(S3_HASH)"; else dest=.s3venv; fi; \
	if [ ! -e "$$dest/.installed-$(S3_HASH)" ]; then \
	  rm -rf "$$dest"; \
	  { $(PYTHON) -m venv "$$dest" && "$$dest/bin/pip" install -q -r $(S3_REQS) && touch "$$dest/.installed-$(S3_HASH)"; } \
	  || echo "WARNING: could not install moto's S3 server: the cluster tests will be skipped"; \
	fi; \
	if [ -n "$(LOCALNDIF_CACHE)" ]; then \
	  if [ -d .s3venv ] && [ ! -L .s3venv ]; then rm -rf .s3venv; fi; \
	  ln -sfn "$$dest" .s3venv; \
	fi

# The env var must be re-read after the venv exists, hence the recursive make.
build: venv
	$(MAKE) --no-print-directory _build

_build:
	$(CARGO) build --release -j$(JOBS) -p localndif
	@echo "built target/release/localndif"

# The wheel `pip install` takes (pyproject.toml; python/build_wheel.py says how): the
# release binary, whose rpath finds libtorch in the torch wheel installed beside it, and
# python/localndif. WHEEL_PROFILE=dev packs the debug build instead.
WHEEL_PROFILE ?= release
wheel: venv
	$(MAKE) --no-print-directory _wheel

_wheel:
	.venv/bin/python python/build_wheel.py --profile $(WHEEL_PROFILE) --out target/wheels --jobs $(JOBS)

serve: build
	target/release/localndif serve --port $(PORT)

test: venv cluster-deps browser-deps
	$(MAKE) --no-print-directory _test

# In CI (CI=true) a test dependency that could not be installed fails the run with the
# reason; elsewhere its tests are skipped and the run ends with a SKIPPED line saying so.
_test:
	$(CARGO) build -j$(JOBS) -p localndif
	@set -uo pipefail; \
	cluster_skip=""; browser_skip=""; \
	command -v redis-server >/dev/null && [ -x .s3venv/bin/moto_server ] || cluster_skip="redis-server or moto_server could not be installed by make test on this machine"; \
	command -v chromium >/dev/null || browser_skip="chromium could not be installed by make test on this machine"; \
	if [ "$${CI:-}" = true ] && [ -n "$$cluster_skip$$browser_skip" ]; then \
	  echo "FAILED: CI needs every test dependency: $$cluster_skip $$browser_skip"; exit 1; fi; \
	LOCALNDIF_CLUSTER_SKIP="$$cluster_skip" LOCALNDIF_BROWSER_SKIP="$$browser_skip" \
	  $(CARGO) test -j$(JOBS) --workspace; status=$$?; \
	[ -z "$$cluster_skip" ] || echo "SKIPPED: the cluster tests (conformance/tests/cluster.rs): $$cluster_skip"; \
	[ -z "$$browser_skip" ] || echo "SKIPPED: the report page test (conformance/tests/report_page.rs): $$browser_skip"; \
	exit $$status

# Everything recorded from Python: the tiny models, CPython's answers for the
# interpreter's differential tests, and the public names of the modules it provides.
fixtures: venv
	.venv/bin/python fixtures/models/make_tiny.py
	.venv/bin/python python/cpython_corpus.py
	.venv/bin/python python/bytecode_corpus.py
	.venv/bin/python python/module_names.py
	.venv/bin/python python/source_ops.py
	PYTHONPATH=.nnsight-0.7.0 .venv/bin/python python/source_ops.py
	.venv/bin/python fuzz/seed.py

# Speed against local nnsight and plain transformers on a GPT-2-small-shaped model
# (python/bench.py says what it measures and the targets).
bench: build
	.venv/bin/python python/bench.py

# Throughput and latency under 32 concurrent clients replaying captured requests
# (python/loadbench.py says what it checks and the targets).
loadbench: build
	.venv/bin/python python/loadbench.py

# Ten minutes of mixed clients — normal jobs of both generations, hostile code, bombs,
# stalled and vanishing sockets, half-sent requests — against one server (python/soak.py
# says what it checks; not part of `make test`).
soak: build
	.venv/bin/python python/soak.py --binary target/release/localndif

# Per family: the server's trace execution against a fresh transformers forward on a
# ~100M-parameter model of that family (python/family_bench.py says what it measures).
familybench: build
	.venv/bin/python python/family_bench.py

# How long `conformance --client all` takes against localndif, per driver, on the embedded
# default and on a 12-layer GPT-2 (python/conformance_bench.py says what it measures).
conformancebench: build
	$(CARGO) build --release -j$(JOBS) -p localndif-conformance
	.venv/bin/python python/conformance_bench.py

# Start-up and trace latency of a Llama-3.1-70B replica (python/replica_bench.py).
replicabench: build
	.venv/bin/python python/replica_bench.py

# Each cargo-fuzz target (fuzz/) for FUZZ_RUNS inputs from its committed seeds; new
# inputs go to a scratch corpus, crashes to fuzz/artifacts. `make test` runs the same
# entry points over the seeds and their mutations.
FUZZ_RUNS ?= 1000000
FUZZ_TARGETS := pickle torch_archive torch_roundtrip zstd g1_body g2_request interpret
fuzz: venv
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@set -eo pipefail; for t in $(FUZZ_TARGETS); do \
	  scratch=$$(mktemp -d); \
	  (cd fuzz && LD_LIBRARY_PATH=$(LIBTORCH)/lib $(CARGO) fuzz run -s none $$t $$scratch corpus/$$t -- -runs=$(FUZZ_RUNS) -max_len=65536 -rss_limit_mb=4096 2>&1 | grep -E "^Done|SUMMARY|panicked"); \
	  rm -rf $$scratch; \
	done

conformance: build
	@echo "start a server, then: cargo run -p localndif-conformance -- --server http://127.0.0.1:$(PORT)"

clean:
	rm -rf target .venv .s3venv
