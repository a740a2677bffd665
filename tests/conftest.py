"""Shared fixtures: the real model (loaded once per session) and real indexes on disk.

Under CI (`CI=true`) the parts some tests need (Apertium, Chromium, the shared
XQuAD set) are required: a missing one stops the run at start with a message
naming it, instead of turning its tests into skips or lowering a floor. Outside
CI those tests skip, and `-ra` lists every skip in the summary.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from indexer.build import BuildOptions, BuildReport, build_index
from indexer.encoder import Encoder
from indexer.settings import default_model_ref

# Every `python -m indexer` the suite runs shares one export cache of its own, made
# here and removed at exit: never the user's ~/.cache, never an earlier run's.
_EXPORT_CACHE = tempfile.mkdtemp(prefix="search-tests-export-cache-")
atexit.register(shutil.rmtree, _EXPORT_CACHE, ignore_errors=True)
os.environ["SEARCH_EXPORT_CACHE"] = _EXPORT_CACHE

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS = REPO_ROOT / "seeds"
SHARED = REPO_ROOT.parent / "shared"
XQUAD = SHARED / "eval" / "xquad" / "bilingual"


IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
CHROMIUM = Path("/usr/bin/chromium")


def missing_required_parts() -> list[str]:
    """What a full run needs and this machine lacks, each with how to get it."""
    from indexer.translation import ApertiumTranslator

    missing = []
    if not ApertiumTranslator.is_available():
        missing.append("Apertium (apt-get install apertium apertium-eng-spa; `make setup` does)")
    if not CHROMIUM.exists():
        missing.append(f"Chromium at {CHROMIUM} (apt-get install chromium; `make browser-deps`)")
    if not (XQUAD / "corpus.jsonl").is_file():
        missing.append(f"the XQuAD retrieval set at {XQUAD} (../shared beside the checkout)")
    return missing


def pytest_configure(config: pytest.Config) -> None:
    if not IN_CI or config.getoption("markexpr", "") == "fast":
        return
    missing = missing_required_parts()
    if missing:
        pytest.exit("CI=true and required parts are missing: " + "; ".join(missing), returncode=3)


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The real default model, loaded once (about 3 s)."""
    return Encoder(default_model_ref(), threads=1)


BuildFn = Callable[..., BuildReport]


@pytest.fixture(scope="session")
def build(encoder: Encoder) -> BuildFn:
    """`build(sources, index_dir, **options)`: a real build reusing the session's model."""

    def _build(sources: list[Path], index_dir: Path, **options: object) -> BuildReport:
        # The product's default export for queries is int8; quantising it adds ~3 s
        # to each fresh index, and the suite makes dozens. Builds here export fp32
        # unless a test asks; int8 is built and served by tests/test_onnx_build.py
        # and by every test that runs `python -m indexer` (the settings' default).
        options.setdefault("onnx_precision", "fp32")
        # Passages likewise (int8 by default since 2026-11-23): tests compare the
        # vectors with sentence-transformers' to 1e-3; tests/test_onnx_build.py builds
        # int8 passages, and every `python -m indexer` the suite runs does.
        options.setdefault("passage_precision", "fp32")
        opts = BuildOptions(
            sources=tuple(sources),
            index_dir=index_dir,
            model_ref=encoder.model_ref,
            **options,  # type: ignore[arg-type]
        )
        return build_index(opts, encoder=encoder)

    return _build


@pytest.fixture(scope="session")
def translator():  # type: ignore[no-untyped-def]
    """The real Apertium translator, or None where Apertium is not installed."""
    from indexer.translation import ApertiumTranslator

    if not ApertiumTranslator.is_available():
        yield None
        return
    with ApertiumTranslator() as real:
        yield real


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for a browser test module (tests/browser.py)."""
    from tests.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh page on the module's `base_url` server; the test fails on any script
    error, dialog or Content-Security-Policy violation."""
    from tests.browser import watched_page

    with watched_page(browser, base_url) as opened:
        yield opened


@pytest.fixture(scope="module")
def fake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn over a small index built with the fake encoder (no model)."""
    from search.app import create_app
    from search.background_server import serve
    from search.engine import SearchEngine
    from tests.corpus import write_corpus
    from tests.fake_encoder import FakeEncoder, build_fake_index

    root = tmp_path_factory.mktemp("fake-server")
    encoder = FakeEncoder()
    build_fake_index([write_corpus(root / "corpus")], root / "index", encoder=encoder)
    engine = SearchEngine(root / "index", encoder=encoder)
    with serve(create_app(engine, reload_seconds=0)) as base_url:
        yield base_url
