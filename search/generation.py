"""The live index generation: loaded once, swapped atomically when a new one appears.

A request takes `LiveGeneration.current` once and uses only it, so a hot reload in
the middle of a request can never mix two generations. A new generation that
fails to load (missing files, a corrupt segment, even a panic inside tantivy's
Rust code) is reported in `problems` and the old one keeps serving; once `current`
points back at the served generation, or a later good one loads, the report is
cleared.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from indexer.analysis import Analyzers
from indexer.layout import IndexLayout
from indexer.manifest import Manifest
from search.case_vocabulary import (
    SYNCHRONOUS_VOCABULARY_ARTICLES,
    BackgroundCaseVocabulary,
    CaseVocabulary,
    InMemoryCaseVocabulary,
    StoredCaseVocabulary,
)
from search.errors import tantivy_panics_as_corruption
from search.heap import unfreeze_for_reload
from search.lexical import LexicalRetriever
from search.semantic import SemanticRetriever
from search.snapshot import IndexSnapshot

__all__ = ["EncoderPool", "LiveGeneration", "LoadedGeneration", "QueryEncoder"]

log = logging.getLogger(__name__)


class QueryEncoder(Protocol):
    """What the query side needs of an encoder (`indexer.encoder.Encoder` is one)."""

    model_ref: str

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> npt.NDArray[np.float32]: ...


class EncoderPool:
    """One encoder per model export, loaded on first use and shared by generations.

    `load(index_dir, manifest)` opens what the manifest records (the ONNX export
    when there is one, see `indexer.query_encoder`). An encoder `add`ed by hand (a
    test's already-loaded model) serves every index built with its model.
    """

    def __init__(self, load: Callable[[Path, Manifest], QueryEncoder]) -> None:
        self._load = load
        self._given: dict[str, QueryEncoder] = {}
        self._loaded: dict[tuple[str, str | None], QueryEncoder] = {}
        self._lock = threading.Lock()

    def add(self, encoder: QueryEncoder) -> None:
        with self._lock:
            self._given[encoder.model_ref] = encoder

    def has(self, manifest: Manifest) -> bool:
        """The encoder for `manifest` is loaded (or was given)."""
        with self._lock:
            return manifest.model.ref in self._given or _key(manifest) in self._loaded

    def get(self, index_dir: Path, manifest: Manifest) -> QueryEncoder:
        ref, export = _key(manifest)
        with self._lock:
            if ref in self._given:
                return self._given[ref]
            if (ref, export) not in self._loaded:
                self._loaded[ref, export] = self._load(index_dir, manifest)
            return self._loaded[ref, export]


def _key(manifest: Manifest) -> tuple[str, str | None]:
    """(model reference, ONNX export hash or None): what tells encoders apart."""
    export = manifest.onnx.sha256 if manifest.onnx and manifest.onnx.exported else None
    return manifest.model.ref, export


@dataclass(frozen=True, slots=True)
class LoadedGeneration:
    """A snapshot with its retrievers, encoder and name evidence; swapped as one reference."""

    snapshot: IndexSnapshot
    lexical: LexicalRetriever
    semantic: SemanticRetriever
    encoder: QueryEncoder
    # How the generation's texts capitalise each word (`search.name_protection`).
    vocabulary: CaseVocabulary


class LiveGeneration:
    def __init__(
        self,
        index_dir: Path,
        *,
        analyzers: Analyzers,
        encoders: EncoderPool,
        prepare: Callable[[IndexSnapshot], object] | None = None,
    ) -> None:
        """`prepare`: work on a newly loaded snapshot that a reload does before serving
        it, so no request pays it (the first load leaves it to the caller)."""
        """Loads the live generation now: a missing or corrupt index raises here."""
        self.index_dir = index_dir
        self._analyzers = analyzers
        self._encoders = encoders
        self._prepare = prepare
        self._lock = threading.Lock()
        self._problems: list[str] = []
        self.current = self._load()

    @property
    def problems(self) -> list[str]:
        """Why a newer generation is not being served; empty when all is well."""
        return list(self._problems)

    def reload_if_changed(self) -> bool:
        """Load and switch to a newer live generation; True if switched."""
        with self._lock:
            live = IndexLayout(self.index_dir).live_generation_id()
            if live is None:
                return False
            if live == self.current.snapshot.generation:
                self._problems.clear()  # `current` points back at what we serve
                return False
            try:
                loaded = self._load()
                if self._prepare is not None:
                    self._prepare(loaded.snapshot)
            except Exception as error:  # a panic in tantivy arrives as IndexCorruptError
                message = f"generation {live} could not be loaded: {_describe(error)}"
                if message not in self._problems:
                    log.error(message)
                    self._problems = [message]
                return False
            self.current = loaded
            self._problems.clear()
            unfreeze_for_reload()  # the replaced generation's cycles stay collectable
            log.info("serving generation %s", loaded.snapshot.generation)
            return True

    def _load(self) -> LoadedGeneration:
        opening = self._open_encoder_meanwhile()
        try:
            snapshot = load_snapshot(self.index_dir, self._analyzers)
        except BaseException:
            # A process that exits on this error must not cut a native model load
            # short: ONNX Runtime's threads then abort the process (SIGABRT).
            if opening is not None:
                opening.join()
            raise
        return LoadedGeneration(
            snapshot=snapshot,
            lexical=LexicalRetriever(snapshot),
            semantic=SemanticRetriever(snapshot),
            encoder=self._encoders.get(self.index_dir, snapshot.manifest),
            vocabulary=_case_vocabulary(snapshot),
        )

    def _open_encoder_meanwhile(self) -> threading.Thread | None:
        """Start opening the live manifest's encoder on another thread, so it loads
        while the snapshot does: at a million passages reading the IVF lists takes
        ~0.5 s and the ONNX session ~0.4 s of the other core. `_load` then asks the
        pool for the same encoder and waits for it; if this early load fails, that
        call loads again and raises. Nothing happens when the encoder is loaded."""
        try:
            manifest = Manifest.read(IndexLayout(self.index_dir).live_generation().manifest)
        except Exception:  # `load_snapshot` reports what is wrong
            return None
        if self._encoders.has(manifest):
            return None

        def load() -> None:
            try:
                self._encoders.get(self.index_dir, manifest)
            except Exception as error:  # raised again by the pool call in `_load`
                log.debug("early encoder load failed: %s", error)

        thread = threading.Thread(target=load, name="encoder-load", daemon=True)
        thread.start()
        return thread


def load_snapshot(index_dir: Path, analyzers: Analyzers) -> IndexSnapshot:
    """`IndexSnapshot.load`, with a panic in tantivy turned into `IndexCorruptError`."""
    with tantivy_panics_as_corruption(str(index_dir)):
        return IndexSnapshot.load(index_dir, analyzers)


def _case_vocabulary(snapshot: IndexSnapshot) -> CaseVocabulary:
    """The store's counts; for a store written before it kept them, counted from the
    stored articles: at load for a small archive, in the background for a large
    one (see `BackgroundCaseVocabulary`)."""
    if snapshot.store.has_case_words:
        return StoredCaseVocabulary(snapshot.store)
    if snapshot.manifest.articles <= SYNCHRONOUS_VOCABULARY_ARTICLES:
        return InMemoryCaseVocabulary.from_articles(snapshot.store.articles())
    return BackgroundCaseVocabulary(snapshot.store.articles)


def _describe(error: BaseException) -> str:
    first_line = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
