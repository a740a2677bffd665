"""One loaded index generation: everything a request needs, immutable once built.

A request takes the engine's current snapshot once and uses only it, so a hot
reload in the middle of a request can never mix two generations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import tantivy

from indexer.analysis import Analyzers, register_analyzers
from indexer.errors import IndexCorruptError
from indexer.layout import (
    ArticleRecord,
    GenerationPaths,
    IndexLayout,
    PassageRecord,
    read_articles_store,
    read_passages_store,
)
from indexer.manifest import Manifest

__all__ = ["IndexSnapshot"]

_NO_DATE = -1


@dataclass(frozen=True, slots=True)
class IndexSnapshot:
    paths: GenerationPaths
    manifest: Manifest
    articles: dict[str, ArticleRecord]
    passages: list[PassageRecord]
    passages_by_article: dict[str, list[int]]
    embeddings: npt.NDArray[np.float32]  # memory-mapped, (passages, dim)
    tantivy_index: tantivy.Index
    searcher: tantivy.Searcher
    analyzers: Analyzers
    # Per-row columns for filtering the semantic leg without Python loops.
    row_lang: npt.NDArray[np.str_]
    row_source: npt.NDArray[np.object_]
    row_date: npt.NDArray[np.int64]  # proleptic ordinal, -1 when unknown

    @property
    def generation(self) -> str:
        return self.manifest.generation

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self.manifest.passages_by_language) | {"en", "es"}

    @classmethod
    def load(cls, index_dir: Path, analyzers: Analyzers) -> IndexSnapshot:
        paths = IndexLayout(index_dir).live_generation()
        manifest = Manifest.read(paths.manifest)
        articles = {a.id: a for a in read_articles_store(paths)}
        passages = read_passages_store(paths)
        try:
            embeddings = np.load(paths.embeddings, mmap_mode="r")
        except (OSError, ValueError) as error:
            raise IndexCorruptError(
                f"Cannot read {paths.embeddings}: {error}. Rebuild with: python -m indexer build"
            ) from error
        expected = (len(passages), manifest.model.dimension)
        if embeddings.shape != expected or embeddings.dtype != np.float32:
            raise IndexCorruptError(
                f"{paths.embeddings} holds {embeddings.shape} {embeddings.dtype}; the manifest "
                f"expects {expected} float32. Rebuild with: python -m indexer build"
            )
        try:
            index = tantivy.Index.open(str(paths.tantivy))
            register_analyzers(index, analyzers)
            index.reload()
            searcher = index.searcher()
        except ValueError as error:
            raise IndexCorruptError(
                f"Cannot open the tantivy index in {paths.tantivy}: {error}. Rebuild with: "
                "python -m indexer build"
            ) from error
        if searcher.num_docs != len(passages):
            raise IndexCorruptError(
                f"{paths.tantivy} has {searcher.num_docs} documents for {len(passages)} "
                "passages. Rebuild with: python -m indexer build"
            )
        by_article: dict[str, list[int]] = {}
        for passage in passages:
            by_article.setdefault(passage.article_id, []).append(passage.row)
        missing = set(by_article) - set(articles)
        if missing:
            raise IndexCorruptError(
                f"{paths.passages} refers to unknown articles ({sorted(missing)[:3]}...). "
                "Rebuild with: python -m indexer build"
            )
        return cls(
            paths=paths,
            manifest=manifest,
            articles=articles,
            passages=passages,
            passages_by_article=by_article,
            embeddings=embeddings,
            tantivy_index=index,
            searcher=searcher,
            analyzers=analyzers,
            row_lang=np.array([p.lang for p in passages], dtype=np.str_),
            row_source=np.array([articles[p.article_id].source for p in passages], dtype=object),
            row_date=np.array(
                [_ordinal(articles[p.article_id].date) for p in passages], dtype=np.int64
            ),
        )

    def passage_text(self, row: int) -> str:
        passage = self.passages[row]
        return self.articles[passage.article_id].text[passage.start : passage.end]


def _ordinal(iso: str | None) -> int:
    return date.fromisoformat(iso).toordinal() if iso else _NO_DATE
