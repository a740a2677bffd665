"""An inverted-file vector index (IVF) with 8-bit codes, from faiss: the approximate
search `indexer.vector_index` uses above its threshold by default.

IVF (Jégou, Douze & Schmid, "Product quantization for nearest neighbor search",
TPAMI 2011, section IV) clusters the rows around `lists` k-means centroids and
files each row under its nearest one. A search scores the query against the
centroids, then scans only the rows filed under the `probes` nearest. The rows
are stored as 8-bit scalar codes (one byte a dimension, each dimension's range
learnt in training): a quarter of float32. Scores from the codes are coarse, so
the caller re-scores the candidates against the float32 rows.

Why IVF rather than an HNSW graph here, measured with `make bench-scale` and
`python -m indexer.ann_tuning` on the synthetic million-passage archive (each
real passage tiled ~1,210 times with noise): the graph (usearch, i8, M 48,
efConstruction 256) reached recall@10 0.72 at ef 512 and 0.83 at ef 2048, its
build's vector stage took 736 s; IVF with 4,096 lists reached 0.994 at 128
probes in 6.2 ms p50, its vector stage 98-123 s. A graph walk must find the ten
best of a thousand near-equal copies by hopping between them; IVF scans all of
them at once, because they fall in a few lists.

A filter runs inside the scan (faiss's `IDSelectorBitmap`): disallowed rows are
skipped as they are met. The lists probed are then the nearest ones that hold
allowed rows, as many as hold twice the rows an unfiltered search scans, so a
filter whose rows lie far from the query (one source, one year) still finds its
best rows rather than the few allowed ones near the query. Twice, because the
best allowed rows of a query far from them are spread over more lists: on the
clustered rows of `tests/test_vector_index.py`, 50 rows from the far half of the
clusters matched the exact scan's 0.78 at once the rows, 1.0 at twice.

Row ids are the faiss ids, so adding rows keeps the lists' centroids (trained
once, at the build that crossed the threshold) and removal deletes ids from
their lists; neither needs a rebuild. faiss is imported on first use (see
`indexer.native_ann`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.native_ann import faiss as _faiss

__all__ = ["IvfLists", "IvfParams", "default_lists"]

Rows = npt.NDArray[np.int64]
Ids = npt.NDArray[np.integer[Any]]  # row ids of any integer type (faiss stores int64)
Matrix = npt.NDArray[np.float32]

_TRAIN_SEED = 20240501
_MIN_ROWS_PER_LIST = 39  # faiss's k-means warns below this many training rows a centroid
_FILTERED_SCAN = 2  # a filtered search scans this many times the rows of an unfiltered one


@dataclass(frozen=True, slots=True)
class IvfParams:
    """faiss IVF settings. `lists`: k-means centroids (0: `default_lists` of the row
    count, resolved when built; the manifest records the number used). `probes`:
    lists scanned per search (nprobe); it can change in the manifest without a
    rebuild. `candidates`: rows taken by their coded score and re-scored exactly by
    the caller. `train_rows_per_list`: rows sampled per centroid for k-means (faiss
    warns below 39; with fewer rows than that a list, there are fewer lists)."""

    lists: int = 0
    probes: int = 128
    candidates: int = 512
    train_rows_per_list: int = 40


def default_lists(rows: int) -> int:
    """4·sqrt(rows), rounded to the nearest power of two, at least 64: 1,024 lists
    at 100k rows (~98 rows a list), 4,096 at 1M (~244). The usual IVF rule of thumb
    (faiss wiki, "Guidelines to choose an index") is 4-16·sqrt(rows). Rounding
    down gave 2,048 at 1M: 128 probes then scan twice the rows, 9.5 ms a search
    against 6.2 ms (`make bench-scale`)."""
    return max(64, 1 << round(math.log2(4 * math.sqrt(max(rows, 1)))))


class IvfLists:
    """A faiss `IndexIVFScalarQuantizer` (inner product, 8-bit codes) keyed by row."""

    def __init__(self, index: Any, params: IvfParams) -> None:
        self._index = index
        self.params = params
        # for filtered searches, made on the first one (and again after a change):
        # each row's list (-1: not filed), and the centroids
        self._list_of_row: npt.NDArray[np.int32] | None = None
        self._centroids: Matrix | None = None

    @classmethod
    def build(
        cls,
        rows: Ids,
        vectors: Matrix,
        params: IvfParams,
        *,
        threads: int = 0,
    ) -> IvfLists:
        """Train the centroids and codes on a sample of `vectors`, then file them
        all under their `rows` ids. `threads`: 0 = every core."""
        faiss = _faiss()
        count, dimension = vectors.shape
        # k-means wants rows to spare for every centroid: few rows, fewer lists
        lists = max(1, min(params.lists or default_lists(count), count // _MIN_ROWS_PER_LIST))
        params = dataclasses.replace(params, lists=lists)
        if threads:
            faiss.omp_set_num_threads(threads)
        quantizer = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        sample = min(count, lists * params.train_rows_per_list)
        rng = np.random.default_rng(_TRAIN_SEED)
        chosen = np.sort(rng.choice(count, sample, replace=False))
        index.train(np.ascontiguousarray(vectors[chosen], dtype=np.float32))
        lists_index = cls(index, params)
        lists_index.add(rows, vectors)
        return lists_index

    @classmethod
    def open(cls, path: Path, params: IvfParams) -> IvfLists:
        """Read a saved index into memory (its codes: one byte a dimension a row).
        Raises ValueError when the file is not a faiss IVF index."""
        faiss = _faiss()
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as error:
            raise ValueError(str(error).strip().splitlines()[-1]) from error
        if not isinstance(index, faiss.IndexIVFScalarQuantizer):
            raise ValueError(f"it holds a {type(index).__name__}, not an IVF index")
        return cls(index, params)

    @property
    def size(self) -> int:
        """Rows filed (removed ones excluded)."""
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def search(
        self, query: Matrix, fetch: int, *, allowed: npt.NDArray[np.bool_] | None = None
    ) -> Rows:
        """Up to `fetch` rows, best first by their coded score, among `allowed` (a mask
        over row ids; None: every filed row)."""
        faiss = _faiss()
        settings = faiss.SearchParametersIVF()
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if allowed is None:
            settings.nprobe = min(self.params.probes, self.params.lists)
            _, found = self._index.search(query, fetch, params=settings)
        else:
            lists, closeness = self._lists_holding(allowed, query[0])
            if not len(lists):
                return np.zeros(0, dtype=np.int64)
            keep = np.packbits(allowed, bitorder="little")
            settings.sel = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(keep))
            settings.nprobe = len(lists)
            found = np.empty((1, fetch), dtype=np.int64)
            scores = np.empty((1, fetch), dtype=np.float32)
            # the C++ call: faiss's Python wrapper of it refuses search parameters
            self._index.search_preassigned_c(
                1, faiss.swig_ptr(query), fetch, faiss.swig_ptr(lists),
                faiss.swig_ptr(closeness), faiss.swig_ptr(scores), faiss.swig_ptr(found),
                False, settings,
            )  # fmt: skip
            del keep  # the bitmap had to outlive the search
        rows: Rows = found[0].astype(np.int64)
        return rows[rows >= 0]

    def _lists_holding(
        self, allowed: npt.NDArray[np.bool_], query: Matrix
    ) -> tuple[npt.NDArray[np.int64], Matrix]:
        """The lists to probe for a filtered search, nearest first, with the query's
        inner product with their centroids: the nearest lists holding allowed rows,
        until they hold twice the rows an unfiltered search scans on average."""
        list_of_row, centroids = self._filing()
        count = min(len(allowed), len(list_of_row))
        filed = list_of_row[:count][allowed[:count]]
        held = np.bincount(filed[filed >= 0], minlength=self.params.lists)
        closeness = (centroids @ query).astype(np.float32)
        order = np.argsort(-closeness, kind="stable")
        order = order[held[order] > 0]
        wanted = _FILTERED_SCAN * self.params.probes * self.size / self.params.lists
        take = int(np.searchsorted(np.cumsum(held[order]), wanted)) + 1
        chosen = order[:take].astype(np.int64)
        return chosen, closeness[chosen]

    def _filing(self) -> tuple[npt.NDArray[np.int32], Matrix]:
        """Each row's list and the centroids, read from the index once (about 10 ms
        and 4 bytes a row at a million rows)."""
        if self._list_of_row is None or self._centroids is None:
            faiss = _faiss()
            lists = self._index.invlists
            sizes = [lists.list_size(number) for number in range(self.params.lists)]
            ids = [
                faiss.rev_swig_ptr(lists.get_ids(number), size).astype(np.int64)
                for number, size in enumerate(sizes)
                if size
            ]
            every = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
            list_of_row = np.full(int(every.max()) + 1 if len(every) else 0, -1, np.int32)
            list_of_row[every] = np.repeat(np.arange(self.params.lists, dtype=np.int32), sizes)
            self._list_of_row = list_of_row
            self._centroids = self._index.quantizer.reconstruct_n(0, self.params.lists)
        return self._list_of_row, self._centroids

    def add(self, rows: Ids, vectors: Matrix) -> None:
        """File `vectors` under the ids `rows` (the centroids stay as trained)."""
        if len(rows):
            self._index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(rows, dtype=np.int64)
            )
            self._list_of_row = None

    def remove(self, rows: Ids) -> None:
        """Delete the ids `rows` from their lists (absent ids are ignored)."""
        if len(rows):
            self._index.remove_ids(np.asarray(rows, dtype=np.int64))
            self._list_of_row = None

    def save(self, path: Path) -> None:
        _faiss().write_index(self._index, str(path))
