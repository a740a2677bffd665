"""Shared fixtures: the real model (loaded once per session) and real indexes on disk."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from indexer.build import BuildOptions, BuildReport, build_index
from indexer.encoder import Encoder
from indexer.settings import default_model_ref

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS = REPO_ROOT / "seeds"
SHARED = REPO_ROOT.parent / "shared"
XQUAD = SHARED / "eval" / "xquad" / "bilingual"


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    """The real default model, loaded once (about 3 s)."""
    return Encoder(default_model_ref(), threads=1)


BuildFn = Callable[..., BuildReport]


@pytest.fixture(scope="session")
def build(encoder: Encoder) -> BuildFn:
    """`build(sources, index_dir, **options)`: a real build reusing the session's model."""

    def _build(sources: list[Path], index_dir: Path, **options: object) -> BuildReport:
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
