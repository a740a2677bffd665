"""Scale figures for the vector index and the metadata store: printed, never asserted.

    python -m indexer.scale_bench [--sizes 1000,100000] [--work DIR] [--queries 300]
                                  [--expansion 64,128,256] [--sigma 0.05] [--noise shaped]
                                  [--masks 0.5,0.01] [--cache FILE.npz] [--keep]

Vectors: the XQuAD paragraphs encoded by the real model, tiled to each size with
Gaussian noise (`--sigma` per dimension; 0.05 leaves a copy at cosine ~0.7 from its
paragraph), re-normalised. `--noise isotropic` (the default) spreads the noise over
all 384 dimensions: ~n/480 copies around each paragraph in a ball of full
dimension, the worst case for a graph index (participation ratio of the spectrum
~340). `--noise shaped` draws it with the covariance of the real encodings (ratio
~48, like real text), same expected norm. Queries: XQuAD questions encoded by the
same model. Recall@k: the share of the exact top k found.

Every open and query runs in a fresh interpreter, so "RSS after open" is what a
server would hold: anonymous memory (its own) and file pages (memory-mapped,
shared with the OS cache, evictable) are shown apart.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from indexer.layout import ArticleRecord, PassageRecord
from indexer.metadata_store import MetadataStore, write_metadata_store
from indexer.vector_index import VectorIndexInfo, VectorSearcher, build_vector_index

__all__ = ["main"]

_XQUAD = Path(__file__).resolve().parents[1].parent / "shared/eval/xquad/bilingual"
_CHUNK_ROWS = 100_000
_DEPTH = 100  # candidates per leg the search service asks for
_EXACT_SAMPLES = 30  # exact scans timed (326 ms each at 1M)
_PASSAGES_PER_ARTICLE = 4

Matrix = npt.NDArray[np.float32]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer.scale_bench", description=__doc__)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--work", type=Path, default=None, help="where the scratch directory goes")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--expansion", default="64,128,256,512", help="HNSW ef values to try")
    parser.add_argument("--masks", default="0.5,0.01", help="shares of rows a filter allows")
    parser.add_argument("--sigma", type=float, default=0.05)
    parser.add_argument("--noise", choices=("isotropic", "shaped"), default="isotropic")
    parser.add_argument("--cache", type=Path, default=None, help="npz of encodings to reuse")
    parser.add_argument("--skip-metadata", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    corpus, questions = _real_encodings(args.cache)
    queries = questions[random.Random(0).sample(range(len(questions)), args.queries)]
    work = Path(tempfile.mkdtemp(dir=args.work, prefix="scale-"))
    spawn = multiprocessing.get_context("spawn")
    try:
        for size in (int(text) for text in args.sizes.split(",")):
            directory = work / f"n{size}"
            directory.mkdir()
            _vector_figures(directory, corpus, queries, size, args, spawn)
            if not args.skip_metadata:
                _metadata_figures(directory, size, spawn)
            if not args.keep:
                shutil.rmtree(directory)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _vector_figures(
    directory: Path, corpus: Matrix, queries: Matrix, size: int, args: Any, spawn: Any
) -> None:
    basis = _noise_basis(np.concatenate([corpus, queries]), shaped=args.noise == "shaped")
    vectors = _tile(corpus, size, args.sigma * basis, directory / "embeddings.npy")
    masks = {f"{float(share):.0%}": _mask(size, float(share)) for share in args.masks.split(",")}
    truth = _ground_truth(vectors, queries, {"all": None, **masks})
    np.save(directory / "queries.npy", queries)
    for name, mask in masks.items():
        np.save(directory / f"mask-{name}.npy", mask)
    started = time.perf_counter()
    info = build_vector_index(vectors, directory, threshold=min(size, 20_000))
    build_seconds = time.perf_counter() - started
    megabytes = sum(p.stat().st_size for p in directory.glob("vectors.*")) / 1e6
    print(f"\n## vectors n={size:,}: build {build_seconds:.1f} s, graph file {megabytes:.0f} MB")
    print(
        "| ef | open s | RSS anon/file MB: open, queried | exact p50/p95 ms | ann p50/p95 ms "
        "| recall@10 | recall@100 | "
        + " | ".join(f"{name} allowed: p50 ms, r@10" for name in masks)
        + " |"
    )
    print("| ---: | ---: | --- | --- | --- | ---: | ---: |" + " --- |" * len(masks))
    for expansion in (int(text) for text in args.expansion.split(",")):
        assert info.hnsw is not None
        tuned = replace(info, hnsw=replace(info.hnsw, expansion_search=expansion))
        with spawn.Pool(1) as pool:
            row = pool.apply(
                _measure_vectors, (str(directory), tuned.to_dict(), truth, list(masks))
            )
        print(
            f"| {expansion} | {row['open_s']:.3f} | {row['anon']:.0f} / {row['file']:.0f}, "
            f"{row['anon_queried']:.0f} / {row['file_queried']:.0f} | "
            f"{row['exact'][0]:.1f} / {row['exact'][1]:.1f} | "
            f"{row['ann'][0]:.2f} / {row['ann'][1]:.2f} | {row['recall@10']:.4f} | "
            f"{row['recall@100']:.4f} | "
            + " | ".join(f"{row[name][0]:.2f}, {row[name][1]:.3f}" for name in masks)
            + " |",
            flush=True,
        )


def _measure_vectors(
    directory: str, info_dict: dict[str, Any], truth: dict[str, Any], masks: list[str]
) -> Any:
    root = Path(directory)
    queries = np.load(root / "queries.npy")
    anon_before, file_before = _rss()
    started = time.perf_counter()
    embeddings = np.load(root / "embeddings.npy", mmap_mode="r")
    searcher = VectorSearcher.open(root, VectorIndexInfo.from_dict(info_dict), embeddings)
    result: dict[str, Any] = {"open_s": time.perf_counter() - started}
    anon, file = _rss()
    result.update(anon=anon - anon_before, file=file - file_before)
    result["ann"], found = _timed(searcher, queries, None)
    result["recall@10"] = _recall(found, truth["all"], 10)
    result["recall@100"] = _recall(found, truth["all"], _DEPTH)
    for name in masks:
        mask = np.load(root / f"mask-{name}.npy")
        latency, found = _timed(searcher, queries, mask)
        result[name] = (latency[0], _recall(found, truth[name], 10))
    anon, file = _rss()  # before any full scan, which would map every row
    result.update(anon_queried=anon - anon_before, file_queried=file - file_before)
    exact = VectorSearcher.open(root, VectorIndexInfo("exact", *embeddings.shape), embeddings)
    result["exact"] = _timed(exact, queries[:_EXACT_SAMPLES], None)[0]
    return result


def _timed(
    searcher: VectorSearcher, queries: Matrix, mask: npt.NDArray[np.bool_] | None
) -> tuple[tuple[float, float], list[list[int]]]:
    found, seconds = [], []
    for query in queries:
        started = time.perf_counter()
        rows, _ = searcher.search(query, _DEPTH, allowed=mask)
        seconds.append(time.perf_counter() - started)
        found.append(rows.tolist())
    return _p50_p95([s * 1000 for s in seconds]), found


def _metadata_figures(directory: Path, size: int, spawn: Any) -> None:
    articles, passages = _synthetic_records(size)
    started = time.perf_counter()
    write_metadata_store(directory, articles, passages)
    write_seconds = time.perf_counter() - started
    megabytes = sum(p.stat().st_size for p in directory.glob("row_*.npy")) / 1e6
    database = (directory / "metadata.sqlite").stat().st_size / 1e6
    del articles, passages
    with spawn.Pool(1) as pool:
        row = pool.apply(_measure_metadata, (str(directory), size))
    print(
        f"\n## metadata n={size:,} passages ({size // _PASSAGES_PER_ARTICLE:,} articles): write "
        f"{write_seconds:.1f} s, sqlite {database:.0f} MB + columns {megabytes:.1f} MB, open "
        f"{row['open_s'] * 1000:.1f} ms, RSS anon/file {row['anon']:.0f} / {row['file']:.0f} MB"
    )
    print(
        "lookup µs (p50): article {article:.0f}, passage {passage:.0f}, passage_text {text:.0f}, "
        "passages_of {of:.0f}; 2 threads x 5000 passages: a connection per thread {local:.0f} ms,"
        " one shared behind a lock {shared:.0f} ms".format(**row)
    )


def _measure_metadata(directory: str, size: int) -> dict[str, float]:
    anon_before, file_before = _rss()
    started = time.perf_counter()
    store = MetadataStore.open(Path(directory))
    result = {"open_s": time.perf_counter() - started}
    anon, file = _rss()
    result.update(anon=anon - anon_before, file=file - file_before)
    rng = random.Random(1)
    rows = [rng.randrange(size) for _ in range(2000)]
    ids = [f"article-{row // _PASSAGES_PER_ARTICLE}" for row in rows]
    lookups: list[tuple[str, Any, list[Any]]] = [
        ("article", store.article, ids),
        ("passage", store.passage, rows),
        ("text", store.passage_text, rows),
        ("of", store.passages_of, ids),
    ]
    for name, call, keys in lookups:
        samples = []
        for key in keys:
            begun = time.perf_counter()
            call(key)
            samples.append((time.perf_counter() - begun) * 1e6)
        result[name] = statistics.median(samples)
    result["local"] = _two_threads(store.passage, rows)
    lock = threading.Lock()
    shared = MetadataStore.open(Path(directory))

    def locked(row: int) -> PassageRecord | None:
        with lock:
            return shared.passage(row)

    result["shared"] = _two_threads(locked, rows)
    return result


def _two_threads(call: Any, rows: list[int]) -> float:
    def work() -> None:
        for row in rows * 5:
            call(row)

    threads = [threading.Thread(target=work) for _ in range(2)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (time.perf_counter() - started) * 1000


def _synthetic_records(size: int) -> tuple[list[ArticleRecord], list[PassageRecord]]:
    texts = _xquad_texts("corpus.jsonl")
    articles: list[ArticleRecord] = []
    passages: list[PassageRecord] = []
    for number in range(size // _PASSAGES_PER_ARTICLE):
        text = texts[number % len(texts)]
        lang = "es" if number % 2 else "en"
        article = ArticleRecord(
            f"article-{number}", f"Title {number}", text, lang,
            f"20{10 + number % 15}-0{1 + number % 9}-1{number % 10}", f"source-{number % 20}", None,
        )  # fmt: skip
        articles.append(article)
        step = len(text) // _PASSAGES_PER_ARTICLE
        for part in range(_PASSAGES_PER_ARTICLE):
            end = len(text) if part == _PASSAGES_PER_ARTICLE - 1 else (part + 1) * step
            row = len(passages)
            passages.append(
                PassageRecord(row, f"{article.id}#{part}", article.id, lang, part * step, end)
            )
    return articles, passages


def _real_encodings(cache: Path | None) -> tuple[Matrix, Matrix]:
    if cache and cache.exists():
        stored = np.load(cache)
        return stored["corpus"], stored["queries"]
    from indexer.encoder import Encoder
    from indexer.settings import default_model_ref

    encoder = Encoder(default_model_ref())
    corpus = encoder.encode(_xquad_texts("corpus.jsonl"))
    queries = encoder.encode(_xquad_texts("queries.jsonl"))
    if cache:
        np.savez(cache, corpus=corpus, queries=queries)
    return corpus, queries


def _xquad_texts(name: str) -> list[str]:
    with (_XQUAD / name).open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines]


def _noise_basis(samples: Matrix, *, shaped: bool) -> Matrix:
    """B such that `z @ B` (z standard normal) is the noise: the identity, or the
    samples' covariance scaled to the same trace (expected squared norm)."""
    dimension = samples.shape[1]
    if not shaped:
        return np.eye(dimension, dtype=np.float32)
    variances, axes = np.linalg.eigh(np.cov(samples.T))
    variances = np.clip(variances, 0, None)
    basis: Matrix = ((axes * np.sqrt(variances)).T * np.sqrt(dimension / variances.sum())).astype(
        np.float32
    )
    return basis


def _tile(corpus: Matrix, size: int, noise_basis: Matrix, path: Path) -> Matrix:
    """`size` noisy unit copies of the corpus rows, written to `path`, memory-mapped."""
    rng = np.random.default_rng(0)
    out = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.float32, shape=(size, corpus.shape[1])
    )
    for start in range(0, size, _CHUNK_ROWS):
        rows = corpus[np.arange(start, min(size, start + _CHUNK_ROWS)) % len(corpus)]
        noisy = rows + rng.standard_normal(rows.shape, dtype=np.float32) @ noise_basis
        out[start : start + len(rows)] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    out.flush()
    tiled: Matrix = np.load(path, mmap_mode="r")
    return tiled


def _mask(size: int, fraction: float) -> npt.NDArray[np.bool_]:
    return np.random.default_rng(2).random(size) < fraction


def _ground_truth(
    vectors: Matrix, queries: Matrix, masks: dict[str, npt.NDArray[np.bool_] | None]
) -> dict[str, list[list[int]]]:
    """Exact top-`_DEPTH` rows per query and mask, scanning the rows a chunk at a time."""
    best: dict[str, tuple[Any, Any]] = {}
    for start in range(0, len(vectors), _CHUNK_ROWS):
        scores = queries @ np.asarray(vectors[start : start + _CHUNK_ROWS]).T
        rows = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        for name, mask in masks.items():
            if mask is not None:
                scores_in = np.where(mask[start : start + scores.shape[1]], scores, -np.inf)
            else:
                scores_in = scores
            if name in best:
                scores_in = np.concatenate([best[name][0], scores_in], axis=1)
                rows_in = np.concatenate([best[name][1], rows], axis=1)
            else:
                rows_in = rows
            depth = min(_DEPTH, scores_in.shape[1])
            keep = np.argpartition(-scores_in, depth - 1, axis=1)[:, :depth]
            best[name] = (
                np.take_along_axis(scores_in, keep, 1),
                np.take_along_axis(rows_in, keep, 1),
            )
    truth = {}
    for name, (scores, rows) in best.items():
        order = np.argsort(-scores, axis=1, kind="stable")
        truth[name] = [
            [int(r) for r, v in zip(row_line, score_line, strict=True) if np.isfinite(v)]
            for row_line, score_line in zip(
                np.take_along_axis(rows, order, 1),
                np.take_along_axis(scores, order, 1),
                strict=True,
            )
        ]
    return truth


def _recall(found: list[list[int]], truth: list[list[int]], k: int) -> float:
    hits = sum(len(set(f[:k]) & set(t[:k])) for f, t in zip(found, truth, strict=True))
    return hits / sum(len(t[:k]) for t in truth)


def _p50_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[
        min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    ]


def _rss() -> tuple[float, float]:
    """(anonymous, file-backed) resident megabytes of this process."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return (int(fields["RssAnon"].split()[0]) / 1024, int(fields["RssFile"].split()[0]) / 1024)


if __name__ == "__main__":
    raise SystemExit(main())
