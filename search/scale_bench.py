"""`make bench-scale`: the service over synthetic indexes of N passages, measured.

    python -m search.scale_bench [--sizes 1000,100000] [--work artifacts/scale]
        [--queries 300] [--noise shaped|isotropic] [--sigma 0.05]
        [--translations stored|none] [--threshold 20000] [--keep]

For each N: a synthetic index (`indexer.synthetic_index`: the passages of a real
build of the XQuAD paragraphs, tiled to N, vectors perturbed, written by the real
writers: only the encoder is skipped); then a real `python -m search serve` over
it (launch to the first /api/health answer, resident memory after a warm-up,
latency over HTTP); then a fresh engine in a child process (latency in-process,
the first search and the first "did you mean", which build per-generation data);
then recall of the approximate vector index against an exact scan of the same
rows. Queries are XQuAD questions, English and Spanish, a slice of its own per
mode (no cache helps one mode with another's queries), encoded by the engine as
the service does. Each step runs in its own process, one after another. Numbers,
not assertions.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from indexer.ann_recall import GenerationVectors, exact_answers, graph_recall
from indexer.embedding_noise import NOISE_KINDS
from indexer.latency import p50_p95
from indexer.layout import IndexLayout
from indexer.reference_index import encoded_questions, ensure_reference_index, question_texts
from indexer.synthetic_index import ReferenceCorpus, SyntheticOptions, build_synthetic_index
from indexer.vector_index import DEFAULT_THRESHOLD
from search.bench.samples import http_ms, in_process_ms
from search.models import MODES, Mode, SearchRequest
from search.scale_figures import SizeFigures, print_goals, print_tables
from search.server_process import ServerProcess, read_memory

if TYPE_CHECKING:
    from search.engine import SearchEngine

__all__ = ["main"]

_XQUAD = Path(__file__).resolve().parents[1].parent / "shared/eval/xquad/bilingual"
_WARM_QUERIES = 10  # per mode, before any figure is taken
_RECALL_QUERIES = 300
# Words no index holds, so the first of them builds the "did you mean" vocabulary.
_MISSPELT = "Pantehrs defnse sacks"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.scale_bench", description=__doc__)
    parser.add_argument("--sizes", default="1000,100000", help="passages, comma-separated")
    parser.add_argument("--work", type=Path, default=Path("artifacts/scale"))
    parser.add_argument("--corpus", type=Path, default=_XQUAD / "corpus.jsonl")
    parser.add_argument("--questions", type=Path, default=_XQUAD / "queries.jsonl")
    parser.add_argument("--queries", type=int, default=300, help="timed queries per mode")
    parser.add_argument("--noise", choices=NOISE_KINDS, default="shaped")
    parser.add_argument("--sigma", type=float, default=0.05)
    parser.add_argument("--translations", choices=("stored", "none"), default="stored")
    parser.add_argument("--threshold", type=int, default=DEFAULT_THRESHOLD, help="ANN index from")
    parser.add_argument("--keep", action="store_true", help="keep each synthetic index")
    args = parser.parse_args(argv)
    sizes = [int(text.replace("_", "")) for text in args.sizes.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    reference = ensure_reference_index(args.work, args.corpus)
    questions = question_texts(args.questions)
    needed = _WARM_QUERIES + len(MODES) * args.queries + _RECALL_QUERIES
    if needed > len(questions):
        parser.error(
            f"--queries {args.queries} needs {needed} questions; there are {len(questions)}"
        )
    _print_setup(args, reference)
    rows = []
    for size in sizes:
        options = SyntheticOptions(
            passages=size,
            noise=args.noise,
            sigma=args.sigma,
            translations=args.translations == "stored",
            vector_threshold=args.threshold,
        )
        rows.append(_measure_size(args, reference, options, questions))
        print_tables(rows[-1:])
    print(f"\n## {', '.join(f'{n:,}' for n in sizes)} passages ({args.noise} noise)")
    print_tables(rows)
    print_goals(rows)
    return 0


def _print_setup(args: argparse.Namespace, reference: Path) -> None:
    corpus = ReferenceCorpus.read(reference)
    translation = corpus.manifest.translation
    stored = "from the reference build's store" if translation.translated_passages else "none"
    print(
        f"reference: {reference} ({corpus.passage_count} passages of {len(corpus.articles)} "
        f"articles, {corpus.manifest.model.name}, {corpus.manifest.passages_by_language})\n"
        f"noise: {args.noise}, sigma {args.sigma}; translations: "
        f"{stored if args.translations == 'stored' else 'none (left out)'}; approximate index from "
        f"{args.threshold:,} rows; {os.cpu_count()} cores, load {_load()}",
        flush=True,
    )


def _measure_size(
    args: argparse.Namespace, reference: Path, options: SyntheticOptions, questions: list[str]
) -> SizeFigures:
    started = time.perf_counter()
    load_before = _load()
    index_dir = args.work / f"n{options.passages}"
    shutil.rmtree(index_dir, ignore_errors=True)
    built = _in_child(_build, reference, index_dir, options)
    print(f"{options.passages:,} passages written in {built['build_seconds']:.1f} s", flush=True)
    warm = questions[:_WARM_QUERIES]
    slices = {
        mode: questions[_WARM_QUERIES + n * args.queries : _WARM_QUERIES + (n + 1) * args.queries]
        for n, mode in enumerate(MODES)
    }
    server = _measure_server(index_dir, warm, slices, args.work / f"serve-n{options.passages}.log")
    engine = _in_child(_measure_engine, index_dir, warm, slices)
    recall = _in_child(_measure_recall, index_dir, reference, questions[-_RECALL_QUERIES:])
    generation = IndexLayout(index_dir).live_generation().root
    figures = SizeFigures(
        passages=options.passages,
        index_mb=_megabytes(generation),
        total_seconds=time.perf_counter() - started,
        load=f"{load_before} -> {_load()}",
        **built,
        **server,
        **engine,
        **recall,
    )
    if not args.keep:
        shutil.rmtree(index_dir, ignore_errors=True)
    return figures


def _build(reference_dir: Path, index_dir: Path, options: SyntheticOptions) -> dict[str, Any]:
    built = build_synthetic_index(ReferenceCorpus.read(reference_dir), index_dir, options)
    return {
        "articles": built.manifest.articles,
        "tile_seconds": built.tile_seconds,
        "copy_cosine": built.copy_cosine,
        "build_seconds": built.write_seconds,
        "stage_seconds": built.manifest.stage_seconds,
        "build_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _measure_server(
    index_dir: Path, warm: list[str], slices: dict[Mode, list[str]], log_path: Path
) -> dict[str, Any]:
    with ServerProcess.start(index_dir, log_path=log_path) as server:
        at_health = server.memory()
        warm_seconds = server.wait_until_warm()
        with httpx.Client(base_url=server.base_url, timeout=120) as http:
            for mode in MODES:
                http_ms(http, warm, mode)
            http_ms(http, [_MISSPELT], "hybrid")
            warmed = server.memory()
            timed = {mode: p50_p95(http_ms(http, slices[mode], mode)) for mode in MODES}
        return {
            "startup_seconds": server.startup_seconds,
            "warm_seconds": warm_seconds,
            "rss_at_health_mb": at_health.rss_mb,
            "rss_warm_mb": warmed.rss_mb,
            "anon_warm_mb": warmed.anon_mb,
            "rss_peak_mb": server.memory().peak_mb,
            "http": timed,
        }


def _wait_until_warm(engine: SearchEngine, timeout_s: float = 600) -> None:
    """Until the engine's background start-up work is done (`Health.warming`)."""
    deadline = time.perf_counter() + timeout_s
    while engine.health().warming:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the engine was still warming up after {timeout_s} s")
        time.sleep(0.2)


def _measure_engine(
    index_dir: Path, warm: list[str], slices: dict[Mode, list[str]]
) -> dict[str, Any]:
    from search.settings import ServiceSettings
    from search.wiring import build_engine

    engine = build_engine(ServiceSettings.from_env(), index_dir)
    engine.warm_up()
    _wait_until_warm(engine)
    before = read_memory().anon_mb
    (first_search,) = in_process_ms(engine, warm[:1], "hybrid")
    after_search = read_memory().anon_mb
    (first_suggest,) = in_process_ms(engine, [_MISSPELT], "hybrid")
    suggestion = engine.search(SearchRequest(query=_MISSPELT)).did_you_mean
    after_suggest = read_memory().anon_mb
    for mode in MODES:
        in_process_ms(engine, warm, mode)
    timed = {}
    for mode in MODES:
        engine.clear_caches()
        timed[mode] = p50_p95(in_process_ms(engine, slices[mode], mode))
    print(f"  did you mean {_MISSPELT!r}: {suggestion.query if suggestion else None!r}")
    return {
        "in_process": timed,
        "first_search_ms": first_search,
        "first_suggest_ms": first_suggest,
        "facts_mb": after_search - before,
        "suggest_mb": after_suggest - after_search,
    }


def _measure_recall(index_dir: Path, reference_dir: Path, texts: list[str]) -> dict[str, Any]:
    generation = GenerationVectors.live(index_dir)
    if generation.info.kind == "exact":
        none = {"recall_at_10": None, "recall_at_100": None, "ann_ms": None, "exact_ms": None}
        return {"vector_kind": "exact", **none}
    queries = encoded_questions(reference_dir, texts)
    exact = exact_answers(generation.searcher(generation.exact_info()), queries)
    figures = graph_recall(generation.searcher(), queries, exact)
    return {
        "vector_kind": generation.describe(),
        "recall_at_10": figures.recall_at_10,
        "recall_at_100": figures.recall_at_depth,
        "ann_ms": figures.ms,
        "exact_ms": exact.ms,
    }


def _in_child(function: Any, *args: Any) -> Any:
    """`function(*args)` in a fresh process, so that what one step loads (a model,
    a built index's memory, a translator) never inflates another's figures."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def _megabytes(directory: Path) -> float:
    """Bytes of the files under `directory`, each inode counted once, in MB (1e6)."""
    seen: set[int] = set()
    total = 0
    for path in directory.rglob("*"):
        stat = path.stat()
        if path.is_file() and stat.st_ino not in seen:
            seen.add(stat.st_ino)
            total += stat.st_size
    return total / 1e6


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    raise SystemExit(main())
