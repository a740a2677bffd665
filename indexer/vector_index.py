"""Dense retrieval that stays fast at a million passages: exact below a size,
approximate above.

Vectors are the unit-length float32 rows of `embeddings.npy`, so a dot product is
the cosine, in [-1, 1]. An exact scan reads every row: 326 ms for 1M x 384 on an
idle 2-core machine (470-530 ms while others ran). Above `DEFAULT_THRESHOLD` rows
the build also writes an approximate index, whose candidates (`candidates` rows,
512 by default) are re-scored exactly against the float32 rows: returned scores
are true cosines, equal to the exact scan's. Two kinds:

- `ivf` (the default): faiss IVF lists with 8-bit codes (`indexer.ivf_lists`,
  which gives the measurements behind the choice). At a million rows of the
  synthetic archive (`make bench-scale`), recall@10 0.994 at 128 probes in 6.2 ms
  p50; the build's vector stage 98-123 s.
- `hnsw`: a usearch HNSW graph (Malkov & Yashunin, "Efficient and robust
  approximate nearest neighbor search using Hierarchical Navigable Small World
  graphs", TPAMI 2020) with int8 vectors, memory-mapped. Kept for indexes built
  with it and for comparison (`python -m indexer.ann_tuning`): M 48,
  efConstruction 256, ef 512 reached recall@10 0.992 at 100k rows but 0.72 at 1M
  (the misses near-ties among a thousand noisy copies of one passage, which a
  graph walk must hop between); the build's vector stage took 736 s at 1M.
  Opening it walks every node once: at 1M rows 0.6-0.9 s.

Filters never run after the search (that would leave pages short):
- few allowed rows (at most `EXACT_FILTER_ROWS`): exact scan of just those rows,
  gathered with `np.flatnonzero`; exact, and cheaper than an approximate search
  that must skip most of what it visits. At 1M: 1% allowed 40 ms, 5% allowed
  180 ms.
- many allowed rows, IVF: the filter runs inside the scan, over the nearest lists
  holding allowed rows (`indexer.ivf_lists`); if fewer than `min(k, allowed)`
  rows come back, the exact scan of the allowed rows answers instead.
- many allowed rows, HNSW: usearch's Python binding (2.26) has no filtered search
  or predicate callback, so the graph is asked for `k / allowed_fraction * 2`
  candidates, the disallowed ones dropped, with the same exact fallback. At 1M
  (k = 100): 50% allowed 10 ms, 10% allowed 62 ms (a 2,000-row beam).

Changes without a rebuild: `add` appends rows, `remove` hides rows (removed from
the lists, or tombstoned in the graph; the exact paths use the deleted mask).
Both need a searcher opened with `writable=True` (a memory-mapped usearch index
is immutable: an `add` on one crashes the process). `save` writes the changed
index into a new generation directory.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from indexer.errors import IndexCorruptError, IndexerError
from indexer.ivf_lists import IvfLists, IvfParams
from indexer.native_ann import usearch_index
from indexer.vector_rows import RowFile

if TYPE_CHECKING:  # imported where used: see `indexer.native_ann`
    from usearch.index import Index

__all__ = [
    "DEFAULT_THRESHOLD",
    "EXACT_FILTER_ROWS",
    "HnswParams",
    "IvfParams",
    "VectorIndexInfo",
    "VectorSearcher",
    "build_vector_index",
    "update_vector_index",
]

DEFAULT_THRESHOLD = 20_000  # rows; below it an exact scan takes ~10 ms (measured, loaded)
EXACT_FILTER_ROWS = 50_000  # allowed rows up to which a filtered search scans them exactly
INDEX_FILE = "vectors.usearch"
IVF_FILE = "vectors.faiss"
DELETED_FILE = "vectors.deleted.npy"
_OVERFETCH = 2.0  # candidates asked for beyond k / allowed_fraction
_MAX_FETCH = 4096  # widest beam for a filtered walk (2,000 rows took 62 ms at 1M)
_GATHER_FRACTION = 0.15  # below this share of rows allowed, gather them for an exact scan
_SCAN_ROWS = 65_536  # rows read at a time by a full scan from the file (96 MB at 384 dims)

Rows = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class HnswParams:
    """usearch settings. `connectivity`: edges per node (M); `expansion_*`: beam widths
    while building and searching (efConstruction, ef). `expansion_search` can change in
    the manifest without a rebuild; the figures behind the defaults are in the module
    docstring."""

    dtype: str = "i8"  # the graph's copy of the vectors: "i8", "f16" or "f32"
    connectivity: int = 48
    expansion_add: int = 256
    expansion_search: int = 512


@dataclass(frozen=True, slots=True)
class VectorIndexInfo:
    """What a generation's manifest records about its vector index."""

    kind: str  # "exact" | "ivf" | "hnsw"
    count: int  # rows, removed ones included: row ids are 0..count-1
    dimension: int
    deleted: int = 0  # rows removed since the build; rebuild when this grows large
    file: str | None = None  # the faiss lists or usearch graph, relative to the generation
    deleted_file: str | None = None  # int64 ids of removed rows
    hnsw: HnswParams | None = None
    ivf: IvfParams | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VectorIndexInfo:
        hnsw, ivf = data.get("hnsw"), data.get("ivf")
        return cls(
            **{
                **data,
                "hnsw": HnswParams(**hnsw) if hnsw else None,
                "ivf": IvfParams(**ivf) if ivf else None,
            }
        )

    def describe(self) -> str:
        """In a few words, e.g. `ivf 4096 lists, 128 probes`."""
        if self.ivf is not None:
            return f"ivf {self.ivf.lists} lists, {self.ivf.probes} probes"
        if self.hnsw is not None:
            hnsw = self.hnsw
            return f"hnsw {hnsw.dtype} M {hnsw.connectivity} ef {hnsw.expansion_search}"
        return self.kind

    @property
    def candidates(self) -> int:
        """Rows an approximate search re-scores exactly (0 for the exact kind)."""
        if self.ivf is not None:
            return self.ivf.candidates
        return self.hnsw.expansion_search if self.hnsw is not None else 0


AnnParams = HnswParams | IvfParams


def build_vector_index(
    vectors: npt.NDArray[np.float32],
    directory: Path,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    params: AnnParams | None = None,
    threads: int = 0,
) -> VectorIndexInfo:
    """Index unit-length rows (key = row number) into `directory`.

    Below `threshold` rows nothing is written: the exact scan over `embeddings.npy`
    is the index. `params`: IVF lists (the default) or an HNSW graph. `threads`:
    for the build, 0 = every core.
    """
    count, dimension = vectors.shape
    if count < threshold:
        return VectorIndexInfo(kind="exact", count=count, dimension=dimension)
    params = params or IvfParams()
    ann = _new_ann(np.arange(count, dtype=np.int64), vectors, params, threads)
    hnsw = params if isinstance(params, HnswParams) else None
    return _saved(ann, directory, count=count, dimension=dimension, deleted=0, hnsw=hnsw)


def update_vector_index(
    vectors: npt.NDArray[np.float32],
    live: npt.NDArray[np.bool_],
    directory: Path,
    *,
    base: tuple[Path, dict[str, Any] | None] | None,
    first_new_row: int,
    threshold: int = DEFAULT_THRESHOLD,
    params: AnnParams | None = None,
) -> VectorIndexInfo:
    """The vector index of a changed generation, written into `directory`.

    `vectors`: every row, dead ones included; `live`: the rows still present;
    rows from `first_new_row` on are new. `base`: the previous generation's
    directory and its recorded info. Below `threshold` rows the exact scan is the
    index. A previous graph is loaded, loses the dead rows and gains the new live
    ones (cost: the change, plus reading and writing the index file); a generation
    that crosses the threshold builds its index over the live rows once, with
    `params` (None: IVF lists).
    """
    count, dimension = vectors.shape
    dead = int(count - np.count_nonzero(live))
    if count < threshold:
        return VectorIndexInfo(kind="exact", count=count, dimension=dimension, deleted=dead)
    base_info = VectorIndexInfo.from_dict(base[1]) if base is not None and base[1] else None
    ann: Index | IvfLists
    if base is not None and base_info is not None and base_info.kind != "exact":
        params = base_info.hnsw
        ann = _open_ann(base[0], base_info, writable=True)
        ann.remove(np.flatnonzero(~live[: base_info.count]).astype(np.uint64))
        fresh = first_new_row + np.flatnonzero(live[first_new_row:])
        if len(fresh):
            ann.add(fresh.astype(np.uint64), np.ascontiguousarray(vectors[fresh]))
    else:
        params = params or IvfParams()
        fresh = np.flatnonzero(live)
        ann = _new_ann(fresh, np.ascontiguousarray(vectors[fresh]), params, 0)
    hnsw = params if isinstance(params, HnswParams) else None
    return _saved(ann, directory, count=count, dimension=dimension, deleted=dead, hnsw=hnsw)


def _new_ann(
    rows: Rows, vectors: npt.NDArray[np.float32], params: AnnParams, threads: int
) -> Index | IvfLists:
    if isinstance(params, IvfParams):
        return IvfLists.build(rows, vectors, params, threads=threads)
    index = _new_index(vectors.shape[1], params)
    index.add(rows.astype(np.uint64), vectors, threads=threads)
    return index


def _saved(
    ann: Index | IvfLists,
    directory: Path,
    *,
    count: int,
    dimension: int,
    deleted: int,
    hnsw: HnswParams | None = None,
) -> VectorIndexInfo:
    """Write `ann` into `directory`; the info a manifest records for it (`hnsw`: the
    graph's settings, which usearch does not report back)."""
    file = _write_ann(ann, directory)
    if isinstance(ann, IvfLists):
        return VectorIndexInfo(
            kind="ivf", count=count, dimension=dimension, deleted=deleted, file=file,
            ivf=ann.params,
        )  # fmt: skip
    return VectorIndexInfo(
        kind="hnsw", count=count, dimension=dimension, deleted=deleted, file=file,
        hnsw=hnsw or HnswParams(),
    )  # fmt: skip


def _write_ann(ann: Index | IvfLists, directory: Path) -> str:
    """Save `ann` in `directory`; its file name there."""
    if isinstance(ann, IvfLists):
        ann.save(directory / IVF_FILE)
        return IVF_FILE
    ann.save(str(directory / INDEX_FILE))
    return INDEX_FILE


class VectorSearcher:
    """Top-k cosine search over one generation's vectors, optionally filtered."""

    def __init__(
        self,
        info: VectorIndexInfo,
        embeddings: npt.NDArray[np.float32],
        index: Index | IvfLists | None,
        deleted: npt.NDArray[np.bool_],
        *,
        writable: bool,
        exact_filter_rows: int,
    ) -> None:
        self.info = info  # as opened; `save` returns the info after changes
        self._vectors = embeddings
        self._count = info.count
        self._index = index  # None: the exact kind
        self._deleted = deleted
        self._deleted_count = int(np.count_nonzero(deleted))
        self._writable = writable
        self._exact_filter_rows = exact_filter_rows
        # approximate candidates are re-scored from the file, not through the map
        # (`indexer.vector_rows`: the map would pull the whole file into the RSS)
        self._row_file = None if writable or index is None else RowFile.behind(embeddings)
        # usearch runs a one-thread search in its thread context 0: two request
        # threads at once would share it. Serialising costs nothing measurable here.
        # (A faiss search is safe from many threads at once.)
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        directory: Path,
        info: VectorIndexInfo,
        embeddings: npt.NDArray[np.float32],
        *,
        writable: bool = False,
        exact_filter_rows: int = EXACT_FILTER_ROWS,
        deleted: npt.NDArray[np.bool_] | None = None,
    ) -> VectorSearcher:
        """`embeddings`: the generation's (count, dimension) float32 rows, usually
        `np.load(..., mmap_mode="r")`. `writable`: load the graph into memory so that
        `add` and `remove` work (for the indexer; a server keeps it memory-mapped).
        `exact_filter_rows`: allowed rows up to which a filtered search scans exactly.
        `deleted`: the removed rows as a mask (the metadata store's); None: read
        them from `info.deleted_file`."""
        if embeddings.shape != (info.count, info.dimension) or embeddings.dtype != np.float32:
            raise _corrupt(
                f"the vectors are {embeddings.shape} {embeddings.dtype}; the vector index "
                f"expects ({info.count}, {info.dimension}) float32"
            )
        if deleted is None:
            deleted = np.zeros(info.count, dtype=bool)
            if info.deleted_file:
                deleted[_load_array(directory / info.deleted_file)] = True
        elif deleted.shape != (info.count,):
            raise _corrupt(f"the removed-rows mask has {deleted.shape} rows, not {info.count}")
        if int(deleted.sum()) != info.deleted:
            raise _corrupt(f"{info.deleted_file} does not list {info.deleted} removed rows")
        index = None if info.kind == "exact" else _open_ann(directory, info, writable=writable)
        if writable:
            embeddings = np.array(embeddings, dtype=np.float32)
        return cls(
            info,
            embeddings,
            index,
            deleted,
            writable=writable,
            exact_filter_rows=exact_filter_rows,
        )

    @property
    def count(self) -> int:
        """Rows, removed ones included; the next added row gets this id."""
        return self._count

    @property
    def vectors(self) -> npt.NDArray[np.float32]:
        """All (count, dimension) rows: what a new generation's `embeddings.npy` holds."""
        return self._vectors[: self._count]

    def rows(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """(len(rows), dimension): the unit vectors of `rows`, read from the file
        behind an approximate index (not through the map, `indexer.vector_rows`)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= self._count):
            raise ValueError(f"rows must lie in 0..{self._count - 1}")
        return self._gather(rows)

    def _gather(self, rows: Rows) -> npt.NDArray[np.float32]:
        """The vectors of valid `rows`: from the file behind an approximate index,
        else through the map (or the array in memory)."""
        if self._row_file is None:
            return np.asarray(self._vectors[rows], dtype=np.float32)
        return self._row_file.read(rows)

    def search(
        self,
        query_vector: npt.NDArray[np.float32],
        k: int,
        *,
        allowed: npt.NDArray[np.bool_] | None = None,
    ) -> tuple[Rows, Scores]:
        """The k rows nearest the unit `query_vector` among `allowed` (a mask over
        rows; None: every row), best first (ties: lower row first), with cosines."""
        query = np.ascontiguousarray(query_vector, dtype=np.float32)
        if allowed is not None and allowed.shape != (self._count,):
            raise ValueError(f"allowed has shape {allowed.shape}; expected ({self._count},)")
        if k <= 0 or self._count == 0:
            return _empty()
        if self._index is None:
            mask = allowed
            if self._deleted_count:
                mask = ~self._deleted if mask is None else mask & ~self._deleted
            allowed_count = self._count if mask is None else int(np.count_nonzero(mask))
            return self._exact(query, k, mask, allowed_count)
        if allowed is None:  # the graph and the lists skip removed rows themselves
            rows, scores = self._graph(query, max(k, self.info.candidates))
            return rows[:k], scores[:k]
        return self._filtered(query, k, allowed & ~self._deleted)

    def add(self, rows: npt.NDArray[np.integer[Any]], vectors: npt.NDArray[np.float32]) -> None:
        """Append unit rows; `rows` must be count, count+1, ... (row ids never reused)."""
        self._require_writable("add")
        rows = np.asarray(rows, dtype=np.int64)
        expected = np.arange(self._count, self._count + len(rows))
        if not np.array_equal(rows, expected) or vectors.shape != (len(rows), self.info.dimension):
            raise ValueError(
                f"add expects rows {self._count}..{self._count + len(rows) - 1} and vectors of "
                f"shape ({len(rows)}, {self.info.dimension}); got rows {rows[:3]}... and "
                f"{vectors.shape}"
            )
        self._vectors = _append(self._vectors, self._count, vectors)
        self._deleted = np.concatenate([self._deleted, np.zeros(len(rows), dtype=bool)])
        self._count += len(rows)
        if self._index is not None:
            self._index.add(rows.astype(np.uint64), vectors)  # usearch keys; faiss takes any

    def remove(self, rows: npt.NDArray[np.integer[Any]]) -> int:
        """Hide rows from every search; returns how many were live."""
        self._require_writable("remove")
        rows = np.unique(np.asarray(rows, dtype=np.int64))
        if len(rows) and (rows[0] < 0 or rows[-1] >= self._count):
            raise ValueError(f"remove: rows must lie in 0..{self._count - 1}")
        live = rows[~self._deleted[rows]]
        self._deleted[live] = True
        self._deleted_count += len(live)
        if self._index is not None and len(live):
            self._index.remove(live.astype(np.uint64))
        return len(live)

    def save(self, directory: Path) -> VectorIndexInfo:
        """Write the (changed) index into `directory`; `vectors` go to its embeddings."""
        deleted_rows = np.flatnonzero(self._deleted).astype(np.int64)
        deleted_file = None
        if len(deleted_rows):
            deleted_file = DELETED_FILE
            np.save(directory / DELETED_FILE, deleted_rows)
        if self._index is not None:
            _write_ann(self._index, directory)
        return dataclasses.replace(
            self.info, count=self._count, deleted=len(deleted_rows), deleted_file=deleted_file
        )

    def _graph(
        self,
        query: npt.NDArray[np.float32],
        fetch: int,
        allowed: npt.NDArray[np.bool_] | None = None,
    ) -> tuple[Rows, Scores]:
        """The approximate index's `fetch` candidates (among `allowed`, which only
        the IVF lists take), re-scored exactly, best first."""
        assert self._index is not None, "only the approximate kinds have candidates"
        if isinstance(self._index, IvfLists):
            rows = self._index.search(query, fetch, allowed=allowed)
        else:
            with self._lock:
                matches = self._index.search(query, fetch, threads=1)
            rows = matches.keys.astype(np.int64)
        scores = self._gather(rows) @ query
        order = np.lexsort((rows, -scores))
        return rows[order], scores[order]

    def _filtered(
        self, query: npt.NDArray[np.float32], k: int, mask: npt.NDArray[np.bool_]
    ) -> tuple[Rows, Scores]:
        allowed_count = int(np.count_nonzero(mask))
        if allowed_count == 0:
            return _empty()
        live_count = self._count - self._deleted_count
        if allowed_count > self._exact_filter_rows and isinstance(self._index, IvfLists):
            rows, scores = self._graph(query, max(k, self.info.candidates), mask)
            if len(rows) >= min(k, allowed_count):
                return rows[:k], scores[:k]
            return self._exact(query, k, mask, allowed_count)
        fetch = max(self.info.candidates, math.ceil(k * _OVERFETCH * live_count / allowed_count))
        if allowed_count > self._exact_filter_rows and fetch <= _MAX_FETCH:
            rows, scores = self._graph(query, fetch)
            keep = mask[rows]
            rows, scores = rows[keep][:k], scores[keep][:k]
            if len(rows) >= min(k, allowed_count):
                return rows, scores
        return self._exact(query, k, mask, allowed_count)

    def _exact(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        mask: npt.NDArray[np.bool_] | None,
        allowed_count: int,
    ) -> tuple[Rows, Scores]:
        """Exact scan of the allowed rows: gathered when few (gathering costs about 6x
        a contiguous row, measured), else every row scored and the others masked out.
        Behind an approximate index, rows are read from the file, not the map
        (`indexer.vector_rows`)."""
        if mask is not None and allowed_count < _GATHER_FRACTION * self._count:
            allowed_rows = np.flatnonzero(mask)
            rows, scores = _top_k(self._gather(allowed_rows) @ query, k)
            return allowed_rows[rows], scores
        scores = self._scores_of_every_row(query)
        if mask is not None:
            scores = np.where(mask, scores, np.float32(-np.inf))
        return _top_k(scores, k, allowed_count)

    def _scores_of_every_row(self, query: npt.NDArray[np.float32]) -> Scores:
        if self._row_file is None:
            scores: Scores = self._vectors[: self._count] @ query
            return scores
        return np.concatenate(
            [
                self._row_file.scan(start, min(start + _SCAN_ROWS, self._count)) @ query
                for start in range(0, self._count, _SCAN_ROWS)
            ]
        )

    def _require_writable(self, operation: str) -> None:
        if not self._writable:
            raise IndexerError(
                f"Cannot {operation} rows: this vector index was opened read-only (memory-"
                "mapped). Open it with VectorSearcher.open(..., writable=True)."
            )


def _new_index(dimension: int, params: HnswParams) -> Index:
    return usearch_index()(
        ndim=dimension,
        metric="ip",
        dtype=params.dtype,
        connectivity=params.connectivity,
        expansion_add=params.expansion_add,
        expansion_search=params.expansion_search,
    )


def _open_ann(directory: Path, info: VectorIndexInfo, *, writable: bool) -> Index | IvfLists:
    """The generation's IVF lists or HNSW graph, checked against its manifest."""
    path = directory / str(info.file)
    if info.kind not in ("ivf", "hnsw") or info.file is None:
        raise _corrupt(f"unknown vector index kind {info.kind!r}")
    if not path.is_file():
        raise _corrupt(f"the vector index {path} is missing")
    if info.kind == "ivf":
        try:
            lists = IvfLists.open(path, info.ivf or IvfParams())
        except ValueError as error:
            raise _corrupt(f"cannot open the vector index {path} ({error})") from error
        if lists.dimension != info.dimension or lists.size != info.count - info.deleted:
            raise _corrupt(
                f"{path} does not hold {info.count - info.deleted} vectors of "
                f"{info.dimension} dimensions as the manifest says"
            )
        return lists
    return _open_graph(path, info, writable=writable)


def _open_graph(path: Path, info: VectorIndexInfo, *, writable: bool) -> Index:
    try:
        index = usearch_index().restore(str(path), view=not writable)
    except (ValueError, RuntimeError) as error:
        raise _corrupt(f"cannot open the vector index {path} ({error})") from error
    if index is None or index.ndim != info.dimension or index.size != info.count - info.deleted:
        raise _corrupt(
            f"{path} does not hold {info.count - info.deleted} vectors of {info.dimension} "
            "dimensions as the manifest says"
        )
    if info.hnsw:
        # usearch declares this setter away from its getter, which mypy misreads
        index.expansion_search = info.hnsw.expansion_search  # type: ignore[misc]
    return index


def _top_k(
    scores: npt.NDArray[np.float32], k: int, available: int | None = None
) -> tuple[Rows, Scores]:
    """Positions of the k highest scores, best first, ties by lower position."""
    k = min(k, len(scores) if available is None else available)
    if k <= 0:
        return _empty()
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.lexsort((top, -scores[top]))]
    return top.astype(np.int64), scores[top].astype(np.float32)


def _append(
    buffer: npt.NDArray[np.float32], count: int, rows: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """`buffer[:count]` followed by `rows`, growing the buffer by doubling."""
    needed = count + len(rows)
    if needed > len(buffer):
        grown = np.empty((max(needed, 2 * len(buffer)), buffer.shape[1]), dtype=np.float32)
        grown[:count] = buffer[:count]
        buffer = grown
    buffer[count:needed] = rows
    return buffer


def _empty() -> tuple[Rows, Scores]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)


def _load_array(path: Path) -> npt.NDArray[np.int64]:
    try:
        return np.asarray(np.load(path), dtype=np.int64)
    except (OSError, ValueError) as error:
        raise _corrupt(f"cannot read {path} ({error})") from error


def _corrupt(message: str) -> IndexCorruptError:
    return IndexCorruptError(f"Vector index: {message}. Rebuild with: python -m indexer build")
