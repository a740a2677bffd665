"""Indexing a BEIR corpus with the project's own indexer and querying the real engine.

Nothing here re-implements retrieval: the corpus goes through `build_index` like any
JSONL source and every query through `SearchEngine.search`, so the numbers measure
what the service serves. One passage per article is requested (`per_article=1`), and
an article is a corpus document, so a response is already a document ranking.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from indexer.build import BuildOptions, BuildReport, build_index
from indexer.encoder import Encoder
from indexer.settings import DEFAULT_ONNX_PRECISION, DEFAULT_PASSAGE_PRECISION
from indexer.translation import open_translator
from search.engine import EngineOptions, SearchEngine
from search.errors import SearchError
from search.evaluation.beir import CorpusDoc, Query
from search.evaluation.variants import Variant

__all__ = [
    "VariantRun",
    "article_ranking",
    "build_corpus_index",
    "engine_over_corpus",
    "latency_summary",
    "run_variant",
    "write_articles",
]


class _HasArticle(Protocol):
    @property
    def article_id(self) -> str: ...


@dataclass(slots=True)
class VariantRun:
    """What one variant returned: a ranking per query and each search call's time."""

    variant: Variant
    rankings: dict[str, list[str]] = field(default_factory=dict)  # query id -> doc ids
    latencies_ms: list[float] = field(default_factory=list)  # wall time of engine.search
    errors: dict[str, str] = field(default_factory=dict)  # query id -> engine's message
    notes: Counter[str] = field(default_factory=Counter)  # engine notes -> queries
    seconds: float = 0.0


def write_articles(docs: Iterable[CorpusDoc], path: Path) -> int:
    """The corpus as the indexer's JSONL articles (`id`, `text`; `title`, `lang`, `date`,
    `source` if given)."""
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for doc in docs:
            article: dict[str, str] = {"id": doc.id, "text": doc.text}
            if doc.title:
                article["title"] = doc.title
            for name, value in (("lang", doc.lang), ("date", doc.date), ("source", doc.source)):
                if value:
                    article[name] = value
            handle.write(json.dumps(article, ensure_ascii=False) + "\n")
            count += 1
    return count


@contextmanager
def engine_over_corpus(
    docs: Iterable[CorpusDoc], *, encoder: Encoder, prefix: str
) -> Iterator[SearchEngine]:
    """A throwaway index of `docs` in a temporary directory and an engine over it,
    translating at both ends where Apertium is installed; all removed afterwards."""
    translator = open_translator("auto")
    try:
        with tempfile.TemporaryDirectory(prefix=prefix) as work_dir:
            build_corpus_index(
                docs,
                work_dir=Path(work_dir),
                model_ref=encoder.model_ref,
                translation="auto",
                encoder=encoder,
            )
            yield SearchEngine(
                Path(work_dir) / "index",
                options=EngineOptions(query_translation=translator is not None),
                translator=translator,
                encoder=encoder,
            )
    finally:
        if translator is not None:
            translator.close()


def build_corpus_index(
    docs: Iterable[CorpusDoc],
    *,
    work_dir: Path,
    model_ref: str,
    translation: str,
    encoder: Encoder,
    query_precision: str | None = None,
    passage_precision: str = DEFAULT_PASSAGE_PRECISION,
) -> BuildReport:
    """A live index of `docs` under `work_dir/index` (the articles file beside it).

    `query_precision`: the ONNX export the manifest names for queries (None: the
    settings' default, for an engine given its own encoder); `passage_precision`:
    the one passages are embedded with."""
    articles = work_dir / "corpus-articles.jsonl"
    write_articles(docs, articles)
    options = BuildOptions(
        sources=(articles,),
        index_dir=work_dir / "index",
        model_ref=model_ref,
        translation=translation,
        onnx_precision=query_precision or DEFAULT_ONNX_PRECISION,
        passage_precision=passage_precision,
    )
    return build_index(options, encoder=encoder)


def article_ranking(results: Sequence[_HasArticle]) -> list[str]:
    """Article ids best first, each once at its best rank (a guard: per_article=1 already)."""
    seen: set[str] = set()
    ranking: list[str] = []
    for result in results:
        if result.article_id not in seen:
            seen.add(result.article_id)
            ranking.append(result.article_id)
    return ranking


def run_variant(
    engine: SearchEngine,
    variant: Variant,
    queries: Sequence[Query],
    *,
    limit: int = 100,
    translate: bool = True,
) -> VariantRun:
    """Every query through `engine.search`, timed one call at a time.

    A query the engine rejects (a `SearchError`, e.g. one that parses to nothing)
    gets an empty ranking, so it scores 0, and its message is kept in `errors`.
    The engine's notes (e.g. "translation failed for this query") are counted: a run
    whose translations failed measured a degraded engine and should say so.
    """
    outcome = VariantRun(variant)
    started = time.perf_counter()
    for query in queries:
        request = variant.request(query.text, limit=limit, translate=translate)
        call_started = time.perf_counter()
        try:
            response = engine.search(request)
        except SearchError as error:
            outcome.latencies_ms.append((time.perf_counter() - call_started) * 1000)
            outcome.rankings[query.id] = []
            outcome.errors[query.id] = str(error)
            continue
        outcome.latencies_ms.append((time.perf_counter() - call_started) * 1000)
        outcome.rankings[query.id] = article_ranking(response.results)
        outcome.notes.update(response.notes)
    outcome.seconds = time.perf_counter() - started
    return outcome


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    """Median, 95th percentile (linear interpolation) and mean, in milliseconds."""
    if not latencies_ms:
        return {"median": 0.0, "p95": 0.0, "mean": 0.0}
    values = np.asarray(latencies_ms, dtype=np.float64)
    return {
        "median": round(float(np.median(values)), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
        "mean": round(float(values.mean()), 2),
    }
