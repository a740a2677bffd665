"""One loaded index generation: everything a request needs, immutable once built.

A request takes the engine's current snapshot once and uses only it, so a hot
reload in the middle of a request can never mix two generations.

Nothing here grows with the archive at load time: article and passage records
stay in the generation's SQLite store and are read per result
(`indexer.metadata_store`), the per-row columns filters use are memory-mapped,
and so are the vectors (`indexer.vector_index`). Rows (passage numbers) run to
`row_count`, dead rows of removed passages included; `store.row_live` tells them
apart, and neither retriever ever returns a dead row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import tantivy

from indexer.analysis import Analyzers, register_analyzers
from indexer.errors import IndexCorruptError
from indexer.layout import (
    ArticleHeading,
    ArticleRecord,
    GenerationPaths,
    IndexLayout,
    PassageRecord,
    open_vectors,
)
from indexer.manifest import Manifest
from indexer.metadata_store import MetadataStore
from indexer.vector_index import VectorIndexInfo, VectorSearcher
from search.models import Hit

__all__ = ["IndexSnapshot"]

_REBUILD = "Rebuild with: python -m indexer build"


@dataclass(frozen=True, slots=True)
class IndexSnapshot:
    paths: GenerationPaths
    manifest: Manifest
    store: MetadataStore
    vectors: VectorSearcher
    tantivy_index: tantivy.Index
    searcher: tantivy.Searcher
    analyzers: Analyzers

    @property
    def generation(self) -> str:
        return self.manifest.generation

    @property
    def row_count(self) -> int:
        """Rows, dead ones included: the length of every per-row mask."""
        return self.manifest.rows

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self.manifest.passages_by_language) | {"en", "es"}

    @classmethod
    def load(cls, index_dir: Path, analyzers: Analyzers) -> IndexSnapshot:
        paths = IndexLayout(index_dir).live_generation()
        manifest = Manifest.read(paths.manifest)
        store = MetadataStore.open(paths.root)
        try:
            if store.count != manifest.rows:
                raise IndexCorruptError(
                    f"{paths.root}: the store has {store.count} rows, the manifest "
                    f"{manifest.rows}. {_REBUILD}"
                )
            embeddings = open_vectors(paths.vectors, manifest.rows, manifest.model.dimension)
            info = (
                VectorIndexInfo.from_dict(manifest.vector_index)
                if manifest.vector_index
                else VectorIndexInfo("exact", manifest.rows, manifest.model.dimension)
            )
            vectors = VectorSearcher.open(
                paths.root, info, embeddings, deleted=~np.asarray(store.row_live, dtype=bool)
            )
            try:
                index = tantivy.Index.open(str(paths.tantivy))
                register_analyzers(index, analyzers)
                index.reload()
                searcher = index.searcher()
            except ValueError as error:
                raise IndexCorruptError(
                    f"Cannot open the tantivy index in {paths.tantivy}: {error}. {_REBUILD}"
                ) from error
            if searcher.num_docs != manifest.passages:
                raise IndexCorruptError(
                    f"{paths.tantivy} has {searcher.num_docs} documents for "
                    f"{manifest.passages} passages. {_REBUILD}"
                )
        except BaseException:
            store.close()
            raise
        return cls(
            paths=paths,
            manifest=manifest,
            store=store,
            vectors=vectors,
            tantivy_index=index,
            searcher=searcher,
            analyzers=analyzers,
        )

    def ranked(self, rows: npt.ArrayLike, scores: npt.ArrayLike) -> list[Hit]:
        """A hit per row with its score, best score first; equal scores by a hash of
        the passage id, never by row: rows depend on the order articles arrived in,
        and a changed index must answer exactly as a fresh build of the same articles
        would. One numpy sort of the column's values, not a Python key per hit."""
        row_array = np.asarray(rows, dtype=np.int64)
        score_array = np.asarray(scores, dtype=np.float64)
        tiebreak = np.asarray(self.store.row_tiebreak)[row_array]  # not memmap's __getitem__
        order = np.lexsort((tiebreak, -score_array))
        return [
            Hit(key=row, score=score)
            for row, score in zip(
                row_array[order].tolist(), score_array[order].tolist(), strict=True
            )
        ]

    def article(self, article_id: str) -> ArticleRecord | None:
        return self.store.article(article_id)

    def passages_of(self, article_id: str) -> list[PassageRecord]:
        """The article's passages in text order."""
        return self.store.passages_of(article_id)

    def shown_passages(
        self, rows: Collection[int]
    ) -> dict[int, tuple[PassageRecord, ArticleHeading, str]]:
        """Each row's passage, its article's heading and its text, for a page of results."""
        shown = self.store.shown_passages(rows)
        missing = [row for row in rows if row not in shown]
        if missing:
            raise IndexCorruptError(
                f"{self.paths.root}: no live passage at row {missing[0]}. {_REBUILD}"
            )
        return shown

    def passage_text(self, row: int) -> str:
        text = self.store.passage_text(row)
        if text is None:
            raise IndexCorruptError(f"{self.paths.root}: no live passage at row {row}. {_REBUILD}")
        return text

    def close(self) -> None:
        """Close the store's connections (a reload closes the old snapshot's later)."""
        self.store.close()
