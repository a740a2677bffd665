"""Relevance metrics, all computed by ranx (Bassani, ECIR 2022), never by hand.

A ranking is a list of document ids, best first, one entry per document (the engine
is asked for one passage per article and an article is a corpus document). ranx
takes scored runs, so rank r is given the score 1 / r: strictly decreasing, no ties.

Metrics (binary or graded relevance from the qrels; ranx's definitions):
* nDCG@10: DCG with gain rel / log2(rank + 1) over the top 10, divided by the ideal
  DCG; 1.0 means every relevant document is above every other.
* Recall@k: relevant documents in the top k / relevant documents of the query.
* MRR@10: 1 / rank of the first relevant document in the top 10, else 0.
Each is the mean over the queries of the qrels given; a judged query with no results
scores 0 (ranx's `make_comparable` adds it as an empty ranking).

Splits, each evaluated by ranx on restricted qrels (and, for one, rankings):
* by query language: the qrels of that language's queries only;
* cross-lingual "es->en": Spanish queries, keeping only their relevant English
  documents, on the unchanged rankings. Its Recall@10 is the share of those
  documents found in the top 10: with one parallel document per question (XQuAD),
  exactly the share of Spanish questions whose English paragraph is in the top 10;
* monolingual view: each ranking filtered to documents in the query's language and
  judged against its relevant documents in that language, as if the corpus held
  only that language. This is the analogue of monolingual benchmarks such as MTEB's
  XQuADRetrieval (240 paragraphs of one language, one relevant each); it is not
  identical, since the index and its statistics still hold both languages.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CUTOFF_METRICS",
    "MONOLINGUAL_METRICS",
    "SplitMetrics",
    "cross_lingual_qrels",
    "evaluate_rankings",
    "evaluate_splits",
    "monolingual_view",
    "qrels_for_queries",
]

CUTOFF_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
MONOLINGUAL_METRICS = ("ndcg@10", "recall@10")

Qrels = Mapping[str, Mapping[str, int]]
Rankings = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class SplitMetrics:
    """One variant's numbers; inner keys are ranx metric names.

    `by_language` and `monolingual` are keyed by query language, `cross_lingual` by
    direction "es->en" (query language -> document language). `monolingual` and
    `cross_lingual` entries also hold `queries`: how many queries they judge.
    """

    overall: dict[str, float]
    by_language: dict[str, dict[str, float]] = field(default_factory=dict)
    monolingual: dict[str, dict[str, float]] = field(default_factory=dict)
    cross_lingual: dict[str, dict[str, float]] = field(default_factory=dict)


def evaluate_rankings(
    qrels: Qrels, rankings: Rankings, metrics: Sequence[str] = CUTOFF_METRICS
) -> dict[str, float]:
    """ranx means over the queries in `qrels`; queries only in `rankings` are ignored."""
    from ranx import Qrels as RanxQrels
    from ranx import Run as RanxRun
    from ranx import evaluate

    judged = {query: dict(docs) for query, docs in qrels.items() if docs}
    if not judged:
        raise ValueError("No judged queries to evaluate: the qrels are empty.")
    run = {
        query: {doc: 1.0 / rank for rank, doc in enumerate(rankings[query], start=1)}
        for query in judged
        if rankings.get(query)
    }
    with warnings.catch_warnings():
        # numba warns about an int cast while compiling ranx's MRR; harmless (ranks < 2**63).
        warnings.filterwarnings("ignore", message="unsafe cast from uint64 to int64")
        scores: Any = evaluate(
            RanxQrels(judged),
            RanxRun(run),
            list(metrics),
            make_comparable=True,
            save_results_in_run=False,
        )
    if not isinstance(scores, dict):  # ranx returns a bare number for a single metric
        return {metrics[0]: float(scores)}
    return {name: float(scores[name]) for name in metrics}


def qrels_for_queries(qrels: Qrels, query_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """The judgements of these queries only (unjudged ones are left out)."""
    return {query: dict(qrels[query]) for query in query_ids if qrels.get(query)}


def cross_lingual_qrels(
    qrels: Qrels,
    *,
    query_languages: Mapping[str, str],
    doc_languages: Mapping[str, str],
    source: str,
    target: str,
) -> dict[str, dict[str, int]]:
    """Queries in `source` with only their relevant documents in `target` (!= `source`).

    Recall@10 on these qrels is the cross-lingual recall of the direction source->target;
    queries without a relevant `target` document are left out.
    """
    if source == target:
        raise ValueError(f"A cross-lingual direction needs two languages, got {source}->{target}.")
    restricted: dict[str, dict[str, int]] = {}
    for query, docs in qrels.items():
        if query_languages.get(query) != source:
            continue
        kept = {doc: grade for doc, grade in docs.items() if doc_languages.get(doc) == target}
        if kept:
            restricted[query] = kept
    return restricted


def monolingual_view(
    qrels: Qrels,
    rankings: Rankings,
    *,
    query_languages: Mapping[str, str],
    doc_languages: Mapping[str, str],
) -> tuple[dict[str, dict[str, int]], dict[str, list[str]]]:
    """Qrels and rankings with every document outside its query's language removed.

    Queries left with no relevant document in their own language are dropped.
    """
    view_qrels: dict[str, dict[str, int]] = {}
    view_rankings: dict[str, list[str]] = {}
    for query, docs in qrels.items():
        language = query_languages.get(query)
        own = {doc: grade for doc, grade in docs.items() if doc_languages.get(doc) == language}
        if language is None or not own:
            continue
        view_qrels[query] = own
        view_rankings[query] = [
            doc for doc in rankings.get(query, ()) if doc_languages.get(doc) == language
        ]
    return view_qrels, view_rankings


def evaluate_splits(
    qrels: Qrels,
    rankings: Rankings,
    *,
    query_languages: Mapping[str, str],
    doc_languages: Mapping[str, str],
) -> SplitMetrics:
    """Overall, per query language, monolingual view, and per cross-lingual direction.

    `qrels` should hold exactly the evaluated queries; `query_languages` maps each to
    its language and `doc_languages` the documents whose language is known.
    """
    overall = evaluate_rankings(qrels, rankings)
    languages = sorted({query_languages[query] for query in qrels})
    by_language: dict[str, dict[str, float]] = {}
    monolingual: dict[str, dict[str, float]] = {}
    for language in languages:
        own_qrels = qrels_for_queries(
            qrels, [query for query in qrels if query_languages[query] == language]
        )
        by_language[language] = evaluate_rankings(own_qrels, rankings)
        view_qrels, view_rankings = monolingual_view(
            own_qrels, rankings, query_languages=query_languages, doc_languages=doc_languages
        )
        if view_qrels:
            scores = evaluate_rankings(view_qrels, view_rankings, MONOLINGUAL_METRICS)
            monolingual[language] = {**scores, "queries": float(len(view_qrels))}
    cross_lingual: dict[str, dict[str, float]] = {}
    for source in languages:
        for target in sorted(set(doc_languages.values()) - {source}):
            other = cross_lingual_qrels(
                qrels,
                query_languages=query_languages,
                doc_languages=doc_languages,
                source=source,
                target=target,
            )
            if other:
                recall = evaluate_rankings(other, rankings, ("recall@10",))
                cross_lingual[f"{source}->{target}"] = {**recall, "queries": float(len(other))}
    return SplitMetrics(overall, by_language, monolingual, cross_lingual)
