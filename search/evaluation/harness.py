"""One evaluation from start to end: index the corpus, run every variant, score it.

The command line (`python -m search.evaluation`) and the regression guard in
`tests/test_relevance.py` both call `evaluate_data_set`, so `make test` checks the
same code path that `make eval` reports on.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from indexer.encoder import Encoder
from indexer.manifest import Manifest
from indexer.onnx_encoder import MODEL_FILE_BY_PRECISION
from indexer.settings import DEFAULT_PASSAGE_PRECISION
from indexer.translation import open_translator
from search.engine import EngineOptions, SearchEngine
from search.evaluation.beir import DataSet, Query
from search.evaluation.languages import (
    DEFAULT_DOC_LANG_PATTERN,
    compile_doc_lang_pattern,
    document_languages,
)
from search.evaluation.metrics import SplitMetrics, evaluate_splits, qrels_for_queries
from search.evaluation.run import VariantRun, build_corpus_index, latency_summary, run_variant
from search.evaluation.sampling import query_language, select_queries
from search.evaluation.variants import DEFAULT_VARIANTS, Variant

__all__ = ["EvalOptions", "EvaluationResult", "VariantResult", "evaluate_data_set"]

_TRANSLATION_SETTINGS = ("auto", "on", "off")


@dataclass(frozen=True, slots=True)
class EvalOptions:
    """`translation` is the index-time setting (as `BuildOptions.translation`);
    `query_translation` the query-time one: "auto" uses Apertium when installed,
    "on" requires it, "off" gives the engine no translator."""

    model_ref: str
    variants: tuple[Variant, ...] = DEFAULT_VARIANTS
    max_queries: int | None = None
    translation: str = "auto"
    query_translation: str = "auto"
    doc_lang_pattern: str = DEFAULT_DOC_LANG_PATTERN
    limit: int = 100  # results per query: enough for Recall@100
    engine: EngineOptions = field(default_factory=EngineOptions)
    # How queries are embedded. None: by the encoder the harness holds (the
    # sentence-transformers model, in-process). "int8" or "fp32": by that ONNX export,
    # which the build records and the engine opens from the manifest, as `serve` does.
    query_precision: str | None = None
    # The export file the build embeds passages with (`BuildOptions.passage_precision`).
    passage_precision: str = DEFAULT_PASSAGE_PRECISION


@dataclass(frozen=True, slots=True)
class VariantResult:
    variant: Variant
    metrics: SplitMetrics
    latency_ms: dict[str, float]  # median, p95, mean of engine.search wall time
    seconds: float  # all queries of this variant, one after another
    errors: dict[str, str]  # query id -> why the engine rejected it
    notes: dict[str, int]  # engine note -> how many queries got it


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    data_set: DataSet
    options: EvalOptions
    manifest: Manifest  # of the index built for this evaluation
    build_seconds: float
    build_problems: list[str]
    query_translation: bool  # whether the engine had a translator
    query_encoder: str  # what embedded the queries: "onnx-int8", "sentence-transformers"
    passage_encoder: str  # what embedded the passages, likewise (from the manifest)
    queries: list[Query]  # the evaluated ones
    doc_languages: dict[str, str]
    variants: list[VariantResult]
    total_seconds: float


def evaluate_data_set(
    data_set: DataSet,
    options: EvalOptions,
    *,
    encoder: Encoder | None = None,
    log: Callable[[str], None] | None = None,
) -> EvaluationResult:
    """Index `data_set.corpus` in a temporary directory, run and score every variant.

    Raises `ValueError` for a bad option (e.g. a `doc_lang_pattern` without a `lang`
    group), `SettingsError` when translation is "on" but Apertium is missing, and the
    indexer's errors (e.g. `ModelLoadError`) as they come.
    """
    started = time.perf_counter()
    say = log or (lambda message: None)
    for name, value in (
        ("translation", options.translation),
        ("query_translation", options.query_translation),
    ):
        if value not in _TRANSLATION_SETTINGS:
            raise ValueError(f"{name}={value!r} is not one of auto, on, off.")
    _check_precisions(options)
    pattern = compile_doc_lang_pattern(options.doc_lang_pattern)
    queries = select_queries(data_set.judged_queries(), options.max_queries)
    if not queries:
        raise ValueError(f"{data_set.path}: no query has a relevant document in the qrels.")
    translator = open_translator(options.query_translation)
    encoder = encoder or Encoder(options.model_ref, threads=1)
    try:
        with tempfile.TemporaryDirectory(prefix="search-eval-") as work_dir:
            say(f"indexing {len(data_set.corpus)} documents with {encoder.name} ...")
            build_started = time.perf_counter()
            report = build_corpus_index(
                data_set.corpus,
                work_dir=Path(work_dir),
                model_ref=encoder.model_ref,
                translation=options.translation,
                encoder=encoder,
                query_precision=options.query_precision,
                passage_precision=options.passage_precision,
            )
            build_seconds = time.perf_counter() - build_started
            say(f"indexed {report.manifest.passages} passages in {build_seconds:.1f} s")
            engine = SearchEngine(
                Path(work_dir) / "index",
                options=replace(options.engine, query_translation=translator is not None),
                translator=translator,
                # None: the engine opens the query encoder the manifest names
                encoder=encoder if options.query_precision is None else None,
            )
            # what the service would use: where the export failed, sentence-transformers
            query_encoder = _backend(engine.query_encoder)
            runs = [_run(engine, variant, queries, options, say) for variant in options.variants]
    finally:
        if translator is not None:
            translator.close()
    query_languages = {query.id: query_language(query) for query in queries}
    doc_languages = document_languages(data_set.corpus, pattern)
    qrels = qrels_for_queries(data_set.qrels, [query.id for query in queries])
    variants = [
        VariantResult(
            variant=run.variant,
            metrics=evaluate_splits(
                qrels, run.rankings, query_languages=query_languages, doc_languages=doc_languages
            ),
            latency_ms=latency_summary(run.latencies_ms),
            seconds=round(run.seconds, 2),
            errors=dict(run.errors),
            notes=dict(run.notes),
        )
        for run in runs
    ]
    return EvaluationResult(
        data_set=data_set,
        options=options,
        manifest=report.manifest,
        build_seconds=round(build_seconds, 2),
        build_problems=[str(problem) for problem in report.problems],
        query_translation=translator is not None,
        query_encoder=query_encoder,
        passage_encoder=_passage_backend(report.manifest),
        queries=queries,
        doc_languages=doc_languages,
        variants=variants,
        total_seconds=round(time.perf_counter() - started, 2),
    )


def _backend(encoder: object) -> str:
    return str(getattr(encoder, "backend", type(encoder).__name__))


def _passage_backend(manifest: Manifest) -> str:
    """The manifest's `passage_backend` ("onnx-int8, 2 threads") without the threads."""
    onnx = manifest.onnx
    return onnx.passage_backend.split(",")[0] if onnx is not None else "sentence-transformers"


def _check_precisions(options: EvalOptions) -> None:
    known = ", ".join(MODEL_FILE_BY_PRECISION)
    if options.query_precision not in (None, *MODEL_FILE_BY_PRECISION):
        raise ValueError(
            f"query_precision={options.query_precision!r} is not one of {known} (or None: "
            "the harness's sentence-transformers model embeds the queries)."
        )
    if options.passage_precision not in MODEL_FILE_BY_PRECISION:
        raise ValueError(f"passage_precision={options.passage_precision!r} is not one of {known}.")


def _run(
    engine: SearchEngine,
    variant: Variant,
    queries: list[Query],
    options: EvalOptions,
    say: Callable[[str], None],
) -> VariantRun:
    """Warm up (first query, untimed: starts Apertium's pipelines), then the timed run.

    The engine caches query vectors and translations; they are cleared before each
    variant, so every variant's latencies are of cold queries and compare across
    modes (otherwise later variants would reuse the embeddings of earlier ones).
    """
    run_variant(engine, variant, queries[:1], limit=options.limit)
    engine.clear_caches()
    run = run_variant(engine, variant, queries, limit=options.limit)
    say(f"{variant.name}: {len(queries)} queries in {run.seconds:.1f} s")
    return run
