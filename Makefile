# One entry point for people and CI. `make run` and `make test` each do all the
# set-up they need on a fresh machine; `make setup` is idempotent and fast when
# nothing changed (a stamp file tracks pyproject.toml and constraints.txt).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
STAMP  := $(VENV)/.installed
INDEX  ?= index
SOURCE ?= seeds
HOST   ?= 127.0.0.1
PORT   ?= 8000
# `make test` runs the suite in this many worker processes, a module to a worker
# (pytest-xdist, --dist loadscope: a module's fixtures are built once): 2 cores.
TEST_WORKERS ?= 2
# Empty: every default set (XQuAD from ../shared, and our news set); or one folder.
EVAL   ?=

export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
# ranx compiles its metrics with numba on first use (minutes on 2 cores); keep the
# compiled code between runs.
export NUMBA_CACHE_DIR ?= $(CURDIR)/.venv/numba-cache

# Under CI a part that cannot be installed fails the run here, loudly; elsewhere the
# project still runs without it (translation off, browser tests skipped).
CI ?=
ifneq ($(filter true 1 yes,$(CI)),)
  MISSING_PART := exit 1
else
  MISSING_PART := true
endif

.PHONY: setup system-deps browser-deps index rebuild run test test-fast lint check bench \
	bench-xquad bench-build bench-changes bench-scale bench-txtai-venv eval eval-precision messages clean

setup: $(STAMP) system-deps

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt torch==2.13.0
	$(PIP) install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Apertium gives offline English<->Spanish translation. Installed where apt is
# available and we are root; without it everything still runs, translation off.
system-deps:
	@if command -v apertium >/dev/null 2>&1 && [ -d /usr/share/apertium/apertium-eng-spa ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq apertium apertium-eng-spa >/dev/null) \
	  || { echo "error: could not install apertium apertium-eng-spa"; $(MISSING_PART); }; \
	else echo "error: apertium not installed and apt unavailable (translation will be off)"; $(MISSING_PART); fi

# Headless Chromium for the page tests (never `playwright install`: no downloads).
browser-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "error: could not install chromium"; $(MISSING_PART); }; \
	else echo "error: chromium missing and apt unavailable (browser tests will skip)"; $(MISSING_PART); fi

# Sync, not rebuild: with an index already there and unchanged sources this takes
# seconds; changed, new and deleted articles cost only themselves. With no index (or
# one in an older format) it builds one.
index: setup
	$(PY) -m indexer sync $(SOURCE) --index $(INDEX)

# A full rebuild from scratch, when settings change (model, chunking, translation).
rebuild: setup
	$(PY) -m indexer build --source $(SOURCE) --index $(INDEX)

run: index
	$(PY) -m search serve --index $(INDEX) --host $(HOST) --port $(PORT)

# Every test, with the lint and type gates first (CI runs this through .ci/run).
test: setup browser-deps lint
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadscope

# The development loop: pure parts and the web layer on a fake encoder, no model.
test-fast: setup
	$(PY) -m pytest -q -m fast

lint: setup
	$(VENV)/bin/ruff format --check indexer search tests
	$(VENV)/bin/ruff check indexer search tests
	$(VENV)/bin/mypy

check: test

bench: index
	$(PY) -m search.bench --index $(INDEX)

# The same figures on the corpus the issue's "before" was measured on: XQuAD (480
# paragraphs, 826 passages), indexed by `python -m indexer build` into a temporary
# directory first (translation on).
bench-xquad: setup
	$(PY) -m search.bench --corpus ../shared/eval/xquad/bilingual

# Build throughput: `indexer build` of the XQuAD corpus (translation on) into fresh
# index directories, with an empty and with a filled ONNX export cache; add
# AGAINST=<checkout> to build an older commit in turns with this one.
bench-build: setup
	$(PY) -m search.bench.build $(if $(AGAINST),--against $(AGAINST))

# What a change costs (add, sync) against a full build, and 16 clients searching
# while add/remove/sync run in a loop (errors, mixed generations, visibility).
bench-changes: setup
	$(PY) -m search.change_bench

# txtai, side by side in `make bench`: a benchmark-only venv, never a project
# dependency. torch first and pinned, from the same index: an unpinned one pulls CUDA.
TXTAI_VENV := .venv-txtai
bench-txtai-venv: $(TXTAI_VENV)/.installed

$(TXTAI_VENV)/.installed:
	test -x $(TXTAI_VENV)/bin/python || $(PYTHON) -m venv $(TXTAI_VENV)
	$(TXTAI_VENV)/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0
	$(TXTAI_VENV)/bin/python -m pip install -q --disable-pip-version-check txtai==9.14.0
	touch $@

# Synthetic indexes of N passages (comma-separated sizes) through the real writers,
# served and measured: build, size, server memory and start-up, latency, ANN recall.
N ?= 1000,100000
bench-scale: setup
	$(PY) -m search.scale_bench --sizes $(N)

eval: setup
	$(PY) -m search.evaluation $(if $(EVAL),--data $(EVAL))

# fp32 against the int8 defaults (queries and passages), every mode and query
# language, by the same harness: the rule int8 passed to become the default.
eval-precision: setup
	$(PY) -m search.evaluation.precision $(if $(EVAL),--data $(EVAL))

# The page's words: extract them into the template and merge it into each
# catalogue; then translate what is new in search/locale/*/LC_MESSAGES/messages.po.
messages: setup
	$(VENV)/bin/pybabel extract -F search/locale/babel.cfg -k bad_parameter:2 -k N_ \
	  --no-location --sort-output --project=bilingual-search -o search/locale/messages.pot .
	$(VENV)/bin/pybabel update -i search/locale/messages.pot -d search/locale \
	  --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache artifacts
	find $(INDEX) -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
