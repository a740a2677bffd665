"""The vector index: exact below the threshold, real faiss IVF lists (or a real usearch
HNSW graph) above it, filters applied inside the search, rows added and removed
without a rebuild. Tests taking `graph_dir` run once for each approximate kind."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from indexer.ann_tuning import parse_graphs
from indexer.errors import IndexCorruptError, IndexerError
from indexer.ivf_lists import default_lists
from indexer.layout import open_vectors
from indexer.vector_index import (
    HnswParams,
    IvfParams,
    VectorIndexInfo,
    VectorSearcher,
    build_vector_index,
    update_vector_index,
)
from indexer.vector_rows import RowFile

DIMENSION = 48
ROWS = 3000
PARAMS = HnswParams(connectivity=16, expansion_add=64, expansion_search=64)
IVF = IvfParams(lists=64, probes=8, candidates=64)
KINDS: dict[str, HnswParams | IvfParams] = {"ivf": IVF, "hnsw": PARAMS}


def unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    """Clustered unit vectors: 30 centres, 100 noisy members each."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(30, DIMENSION))
    members = centres[np.arange(ROWS) % 30] + rng.normal(scale=0.6, size=(ROWS, DIMENSION))
    return unit(members)


@pytest.fixture(scope="module")
def queries(vectors: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(8)
    return unit(vectors[rng.choice(ROWS, 40)] + rng.normal(scale=0.3, size=(40, DIMENSION)))


@pytest.fixture(scope="module", params=list(KINDS))
def graph_dir(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, vectors: np.ndarray
) -> Path:
    directory = tmp_path_factory.mktemp(request.param)
    params = KINDS[request.param]
    info = build_vector_index(vectors, directory, threshold=1000, params=params, threads=1)
    assert info.kind == request.param
    (directory / "info.json").write_text(json.dumps(info.to_dict()))
    return directory


def open_graph(directory: Path, vectors: np.ndarray, **options: object) -> VectorSearcher:
    info = VectorIndexInfo.from_dict(json.loads((directory / "info.json").read_text()))
    return VectorSearcher.open(directory, info, vectors, **options)  # type: ignore[arg-type]


def exact(vectors: np.ndarray, query: np.ndarray, k: int, mask: np.ndarray | None = None):
    scores = vectors @ query
    rows = np.arange(len(vectors)) if mask is None else np.flatnonzero(mask)
    order = np.lexsort((rows, -scores[rows]))[:k]
    return rows[order], scores[rows][order]


def test_small_collections_are_scanned_exactly(tmp_path: Path, vectors: np.ndarray) -> None:
    info = build_vector_index(vectors, tmp_path)
    assert info.kind == "exact" and info.file is None and info.count == ROWS
    assert list(tmp_path.iterdir()) == []
    searcher = VectorSearcher.open(tmp_path, info, vectors)
    rows, scores = searcher.search(vectors[5], 10)
    want_rows, want_scores = exact(vectors, vectors[5], 10)
    assert rows.tolist() == want_rows.tolist() and rows[0] == 5
    np.testing.assert_allclose(scores, want_scores, rtol=1e-5)


def test_graph_recall_and_exact_cosines(
    graph_dir: Path, vectors: np.ndarray, queries: np.ndarray
) -> None:
    searcher = open_graph(graph_dir, vectors)
    assert (graph_dir / str(searcher.info.file)).is_file()
    found = 0
    for query in queries:
        rows, scores = searcher.search(query, 10)
        assert len(rows) == 10 and rows.dtype == np.int64
        np.testing.assert_allclose(scores, vectors[rows] @ query, rtol=1e-5)
        assert np.all(np.diff(scores) <= 0)
        found += len(set(rows.tolist()) & set(exact(vectors, query, 10)[0].tolist()))
    assert found / (10 * len(queries)) >= 0.95


def test_a_small_allowed_set_is_scanned_exactly(graph_dir: Path, vectors: np.ndarray) -> None:
    searcher = open_graph(graph_dir, vectors)
    mask = np.zeros(ROWS, dtype=bool)
    mask[::97] = True  # 31 rows
    rows, scores = searcher.search(vectors[0], 10, allowed=mask)
    want_rows, want_scores = exact(vectors, vectors[0], 10, mask)
    assert rows.tolist() == want_rows.tolist()
    np.testing.assert_allclose(scores, want_scores, rtol=1e-5)
    rows, _ = searcher.search(vectors[0], 100, allowed=mask)
    assert sorted(rows.tolist()) == np.flatnonzero(mask).tolist()  # all of them, no more


def test_a_large_allowed_set_walks_the_graph_and_keeps_only_allowed_rows(
    graph_dir: Path, vectors: np.ndarray, queries: np.ndarray
) -> None:
    searcher = open_graph(graph_dir, vectors, exact_filter_rows=0)
    mask = np.arange(ROWS) % 2 == 0
    found = 0
    for query in queries:
        rows, _ = searcher.search(query, 10, allowed=mask)
        assert len(rows) == 10 and mask[rows].all()
        found += len(set(rows.tolist()) & set(exact(vectors, query, 10, mask)[0].tolist()))
    assert found / (10 * len(queries)) >= 0.9  # approximate: 0.945 today


def test_the_graph_falls_back_to_an_exact_scan_when_allowed_rows_are_far(
    graph_dir: Path, vectors: np.ndarray
) -> None:
    """Half the rows allowed, all in clusters away from the query: the graph's
    candidates are nearly all disallowed, and the answer must still be complete."""
    searcher = open_graph(graph_dir, vectors, exact_filter_rows=0)
    query = vectors[0]
    cluster = np.arange(ROWS) % 30
    mask = cluster >= 15  # row 0 is in cluster 0, outside the allowed half
    rows, scores = searcher.search(query, 50, allowed=mask)
    want_rows, want_scores = exact(vectors, query, 50, mask)
    if searcher.info.kind == "ivf":  # the lists scan allowed rows only: no fallback needed
        assert len(rows) == 50 and mask[rows].all()
        overlap = len(set(rows.tolist()) & set(want_rows.tolist())) / 50
        assert overlap >= 0.95
        return
    assert rows.tolist() == want_rows.tolist()
    np.testing.assert_allclose(scores, want_scores, rtol=1e-5)


def test_nothing_allowed_finds_nothing(graph_dir: Path, vectors: np.ndarray) -> None:
    searcher = open_graph(graph_dir, vectors)
    rows, scores = searcher.search(vectors[0], 10, allowed=np.zeros(ROWS, dtype=bool))
    assert len(rows) == 0 and len(scores) == 0
    assert len(searcher.search(vectors[0], 0)[0]) == 0


@pytest.mark.parametrize(
    ("threshold", "params"),
    [(1000, IVF), (1000, PARAMS), (10**9, None)],
    ids=["ivf", "hnsw", "exact"],
)
def test_add_and_remove_without_a_rebuild_then_save_and_reopen(
    tmp_path: Path, vectors: np.ndarray, threshold: int, params: HnswParams | IvfParams | None
) -> None:
    built = tmp_path / "built"
    built.mkdir()
    info = build_vector_index(vectors, built, threshold=threshold, params=params, threads=1)
    searcher = VectorSearcher.open(built, info, vectors, writable=True)
    query = vectors[10]
    assert searcher.search(query, 1)[0].tolist() == [10]

    assert searcher.remove(np.array([10, 11, 11])) == 2
    assert searcher.remove(np.array([10])) == 0  # already removed
    every = np.ones(ROWS, dtype=bool)
    for allowed in (None, every):
        rows, _ = searcher.search(query, 20, allowed=allowed)
        assert 10 not in rows and 11 not in rows and len(rows) == 20

    new = unit(query + np.random.default_rng(3).normal(scale=0.01, size=(2, DIMENSION)))
    searcher.add(np.array([ROWS, ROWS + 1]), new)
    assert searcher.count == ROWS + 2
    assert set(searcher.search(query, 2)[0].tolist()) == {ROWS, ROWS + 1}

    saved = tmp_path / "saved"
    saved.mkdir()
    saved_info = searcher.save(saved)
    assert (saved_info.count, saved_info.deleted, saved_info.kind) == (ROWS + 2, 2, info.kind)
    np.save(saved / "embeddings.npy", searcher.vectors)
    embeddings = np.load(saved / "embeddings.npy", mmap_mode="r")
    reopened = VectorSearcher.open(saved, saved_info, embeddings)
    only_new = np.zeros(ROWS + 2, dtype=bool)
    only_new[[10, ROWS + 1]] = True
    assert reopened.search(query, 5, allowed=only_new)[0].tolist() == [ROWS + 1]
    assert 10 not in reopened.search(query, 20)[0]


def test_a_memory_mapped_index_refuses_changes(graph_dir: Path, vectors: np.ndarray) -> None:
    searcher = open_graph(graph_dir, vectors)
    with pytest.raises(IndexerError, match="writable=True"):
        searcher.add(np.array([ROWS]), vectors[:1])
    with pytest.raises(IndexerError, match="writable=True"):
        searcher.remove(np.array([0]))


def test_added_rows_must_follow_the_last_row(graph_dir: Path, vectors: np.ndarray) -> None:
    searcher = open_graph(graph_dir, vectors, writable=True)
    with pytest.raises(ValueError, match="add expects rows 3000"):
        searcher.add(np.array([5]), vectors[:1])
    with pytest.raises(ValueError, match="allowed has shape"):
        searcher.search(vectors[0], 5, allowed=np.ones(3, dtype=bool))


def test_inconsistent_files_are_reported_as_corrupt(
    tmp_path: Path, graph_dir: Path, vectors: np.ndarray
) -> None:
    info = VectorIndexInfo.from_dict(json.loads((graph_dir / "info.json").read_text()))
    with pytest.raises(IndexCorruptError, match="expects \\(3000, 48\\) float32"):
        VectorSearcher.open(graph_dir, info, vectors[:10])
    with pytest.raises(IndexCorruptError, match="is missing"):
        VectorSearcher.open(tmp_path, info, vectors)
    (tmp_path / str(info.file)).write_bytes(b"not a usearch or faiss file")
    with pytest.raises(IndexCorruptError, match="Rebuild"):
        VectorSearcher.open(tmp_path, info, vectors)


def test_info_round_trips_through_json(graph_dir: Path) -> None:
    text = (graph_dir / "info.json").read_text()
    info = VectorIndexInfo.from_dict(json.loads(text))
    assert (info.ivf or info.hnsw) == KINDS[info.kind] and info.dimension == DIMENSION
    assert VectorIndexInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info


def test_concurrent_searches_agree_with_sequential_ones(
    graph_dir: Path, vectors: np.ndarray, queries: np.ndarray
) -> None:
    searcher = open_graph(graph_dir, vectors)
    expected = [searcher.search(q, 10)[0].tolist() for q in queries]
    mismatches: list[int] = []

    def work(start: int) -> None:
        for _ in range(5):
            for i in range(start, len(queries), 2):
                if searcher.search(queries[i], 10)[0].tolist() != expected[i]:
                    mismatches.append(i)

    threads = [threading.Thread(target=work, args=(start,)) for start in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []


def test_rows_read_from_the_file_equal_the_mapped_ones(tmp_path: Path, vectors: np.ndarray) -> None:
    path = tmp_path / "vectors.f32"
    path.write_bytes(vectors.tobytes())
    mapped = open_vectors(path, ROWS, DIMENSION)
    rows = np.array([2999, 0, 17, 17, 1500], dtype=np.int64)
    row_file = RowFile.behind(mapped)
    assert row_file is not None and RowFile.behind(vectors) is None
    np.testing.assert_array_equal(row_file.read(rows), vectors[rows])
    assert row_file.read(np.zeros(0, dtype=np.int64)).shape == (0, DIMENSION)


def test_a_graph_over_a_mapped_file_answers_as_over_memory(
    graph_dir: Path, tmp_path: Path, vectors: np.ndarray, queries: np.ndarray
) -> None:
    """Its candidates, a filter's gathered rows and a full exact scan are read from
    the file (pread), never through the map: the map's pages stay out of the RSS."""
    path = tmp_path / "vectors.f32"
    path.write_bytes(vectors.tobytes())
    from_file = open_graph(graph_dir, open_vectors(path, ROWS, DIMENSION), exact_filter_rows=0)
    in_memory = open_graph(graph_dir, vectors, exact_filter_rows=0)
    few = np.zeros(ROWS, dtype=bool)
    few[::97] = True
    far = np.arange(ROWS) % 30 >= 15  # every row scanned when the index comes up short
    gathering = open_graph(graph_dir, open_vectors(path, ROWS, DIMENSION))  # `few` is gathered
    for query in queries[:10]:
        for searcher, allowed in ((from_file, None), (gathering, few), (from_file, far)):
            file_rows, file_scores = searcher.search(query, 20, allowed=allowed)
            memory_rows, memory_scores = in_memory.search(query, 20, allowed=allowed)
            assert file_rows.tolist() == memory_rows.tolist()
            np.testing.assert_allclose(file_scores, memory_scores, atol=1e-6)
    asked = np.array([2999, 0, 17, 17], dtype=np.int64)  # what the feedback leg reads
    np.testing.assert_array_equal(from_file.rows(asked), vectors[asked])
    with pytest.raises(ValueError, match="rows must lie in"):
        from_file.rows(np.array([ROWS], dtype=np.int64))
    assert _resident_kb(path) == 0


def _resident_kb(path: Path) -> int:
    """Resident kB of this process's mappings of `path` (/proc/self/smaps)."""
    resident, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:  # a mapping's header
            inside = fields[-1] == str(path)
        elif inside and fields[0] == "Rss:":
            resident += int(fields[1])
    return resident


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_changed_generation_updates_the_previous_index_in_place(
    tmp_path: Path, vectors: np.ndarray, kind: str
) -> None:
    """The living archive's path: the previous generation's index loses the removed
    rows and gains the new ones; nothing is rebuilt, and the kind is kept."""
    base = tmp_path / "base"
    base.mkdir()
    base_info = build_vector_index(vectors[:2000], base, threshold=1000, params=KINDS[kind])
    changed = np.concatenate([vectors[:2000], vectors[2000:2100]])
    live = np.ones(len(changed), dtype=bool)
    live[[3, 4, 2050]] = False  # two old rows removed; one new row removed before it lands
    new = tmp_path / "new"
    new.mkdir()
    info = update_vector_index(
        changed, live, new, base=(base, base_info.to_dict()), first_new_row=2000, threshold=1000
    )
    assert (info.kind, info.count, info.deleted) == (kind, 2100, 3)
    assert (info.ivf or info.hnsw) == (base_info.ivf or base_info.hnsw)
    searcher = VectorSearcher.open(new, info, changed, deleted=~live)
    for row in (2010, 2099, 5):
        assert searcher.search(changed[row], 1)[0].tolist() == [row]
    for row in (3, 4, 2050):
        assert row not in searcher.search(changed[row], 20)[0]


def test_ivf_lists_follow_the_row_count(tmp_path: Path, vectors: np.ndarray) -> None:
    """4·sqrt(rows) to the nearest power of two; never more lists than the rows
    can train (39 a list)."""
    assert [default_lists(rows) for rows in (20_000, 100_000, 1_000_000)] == [512, 1024, 4096]
    info = build_vector_index(vectors[:500], tmp_path, threshold=100, threads=1)
    assert info.kind == "ivf" and info.ivf is not None and info.ivf.lists == 500 // 39


def test_the_tuning_tool_reads_both_kinds_of_index_settings() -> None:
    assert parse_graphs("live,ivf,ivf:2048,i8:16:64") == [
        None,
        IvfParams(lists=0),
        IvfParams(lists=2048),
        HnswParams(dtype="i8", connectivity=16, expansion_add=64),
    ]
    for bad in ("ivf:many", "i4:16", "f16:x"):
        with pytest.raises(ValueError, match=bad.split(":")[0]):
            parse_graphs(bad)
    info = VectorIndexInfo("ivf", 10, 4, ivf=IvfParams(lists=64, probes=8))
    assert info.describe() == "ivf 64 lists, 8 probes" and info.candidates == 512
