"""Recall of the approximate vector index against the exact scan over the same rows.

One `VectorSearcher` opens a generation's vectors with their IVF lists (or HNSW
graph), as a server does; another opens the same float32 rows as an exact scan
(the kind a small index uses). Recall@k = |approximate top k ∩ exact top k| /
|exact top k|, averaged over real queries (XQuAD questions encoded by the model).
Both are asked for `DEPTH` rows, as the service's semantic leg is; removed rows
are hidden from both. Times are per search, one thread, in milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from indexer.latency import p50_p95, timed_ms
from indexer.layout import IndexLayout, open_vectors
from indexer.manifest import Manifest
from indexer.metadata_store import MetadataStore
from indexer.vector_index import VectorIndexInfo, VectorSearcher

__all__ = [
    "DEPTH",
    "ExactAnswers",
    "GenerationVectors",
    "RecallFigures",
    "exact_answers",
    "graph_recall",
]

DEPTH = 100  # rows asked for: the service's default candidates per leg

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ExactAnswers:
    rows: list[list[int]]  # per query, the exact top `DEPTH` rows, best first
    ms: tuple[float, float]  # exact scan, p50 and p95
    tenth: list[float]  # per query, the exact 10th-best cosine (nan with fewer rows)


@dataclass(frozen=True, slots=True)
class RecallFigures:
    recall_at_10: float
    recall_at_depth: float
    ms: tuple[float, float]  # graph search with exact re-scoring, p50 and p95
    # Median over queries of the exact 10th-best cosine minus the graph's: how far
    # below the true top 10 the graph's misses score (near 0: near-ties were swapped).
    tenth_gap: float


@dataclass(frozen=True, slots=True)
class GenerationVectors:
    """What both searches open: a generation's rows, removed rows, and its index info."""

    directory: Path
    info: VectorIndexInfo
    vectors: Matrix  # memory-mapped (rows, dimension)
    deleted: npt.NDArray[np.bool_]

    @classmethod
    def live(cls, index_dir: Path) -> GenerationVectors:
        paths = IndexLayout(index_dir).live_generation()
        manifest = Manifest.read(paths.manifest)
        store = MetadataStore.open(paths.root)
        try:
            deleted = ~np.asarray(store.row_live, dtype=bool)
        finally:
            store.close()
        info = (
            VectorIndexInfo.from_dict(manifest.vector_index)
            if manifest.vector_index
            else VectorIndexInfo("exact", manifest.rows, manifest.model.dimension)
        )
        vectors = open_vectors(paths.vectors, manifest.rows, manifest.model.dimension)
        return cls(paths.root, info, vectors, deleted)

    def searcher(self, info: VectorIndexInfo | None = None) -> VectorSearcher:
        """The generation's searcher, or one over the same rows with other `info`
        (the exact kind; another `expansion_search`; a graph built elsewhere)."""
        return VectorSearcher.open(
            self.directory, info or self.info, self.vectors, deleted=self.deleted
        )

    def exact_info(self) -> VectorIndexInfo:
        count, dimension = self.vectors.shape
        return VectorIndexInfo("exact", count, dimension, deleted=int(self.deleted.sum()))

    def with_expansion(self, width: int) -> VectorIndexInfo:
        """The index info with another search width: probes for IVF lists, ef
        (`expansion_search`) for an HNSW graph."""
        if self.info.ivf is not None:
            return replace(self.info, ivf=replace(self.info.ivf, probes=width))
        if self.info.hnsw is not None:
            return replace(self.info, hnsw=replace(self.info.hnsw, expansion_search=width))
        raise ValueError(f"{self.directory} has no approximate index (kind {self.info.kind!r})")

    def describe(self) -> str:
        """The approximate index in a few words, e.g. `ivf 4096 lists, 128 probes`."""
        return self.info.describe()


def exact_answers(searcher: VectorSearcher, queries: Matrix) -> ExactAnswers:
    """The exact top `DEPTH` rows of each query (`searcher` must be an exact one)."""
    times, found = timed_ms(lambda query: searcher.search(query, DEPTH), queries)
    return ExactAnswers(
        [rows.tolist() for rows, _ in found], p50_p95(times), [_tenth(s) for _, s in found]
    )


def graph_recall(searcher: VectorSearcher, queries: Matrix, exact: ExactAnswers) -> RecallFigures:
    """Recall@10 and recall@`DEPTH` of `searcher` against `exact`, and its times."""
    times, found = timed_ms(lambda query: searcher.search(query, DEPTH), queries)
    rows = [answer.tolist() for answer, _ in found]
    gaps = [truth - _tenth(s) for truth, (_, s) in zip(exact.tenth, found, strict=True)]
    return RecallFigures(
        recall_at_10=_recall(rows, exact.rows, 10),
        recall_at_depth=_recall(rows, exact.rows, DEPTH),
        ms=p50_p95(times),
        tenth_gap=float(np.nanmedian(gaps)) if gaps else 0.0,
    )


def _tenth(scores: npt.NDArray[np.float32]) -> float:
    return float(scores[9]) if len(scores) >= 10 else math.nan


def _recall(found: list[list[int]], truth: list[list[int]], k: int) -> float:
    hits = sum(len(set(f[:k]) & set(t[:k])) for f, t in zip(found, truth, strict=True))
    wanted = sum(len(t[:k]) for t in truth)
    return hits / wanted if wanted else 1.0
