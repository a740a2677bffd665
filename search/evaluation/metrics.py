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

Splits, all by restricting the qrels and evaluating with ranx again:
* by query language: the qrels of that language's queries;
* same-language: only the relevant documents in the query's own language;
* cross-lingual "es->en": Spanish queries, only their relevant English documents.
  Its Recall@10 is the share of those relevant documents found in the top 10: with
  one parallel document per question (XQuAD) exactly the share of Spanish questions
  whose English paragraph is in the top 10.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CUTOFF_METRICS",
    "SplitMetrics",
    "cross_lingual_qrels",
    "evaluate_rankings",
    "evaluate_splits",
    "qrels_for_queries",
    "same_language_qrels",
]

CUTOFF_METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")
_SPLIT_METRICS = ("ndcg@10", "recall@10")

Qrels = Mapping[str, Mapping[str, int]]
Rankings = Mapping[str, Sequence[str]]


@dataclass(frozen=True, slots=True)
class SplitMetrics:
    """One variant's numbers. Keys of the inner dicts are ranx metric names.

    `cross_lingual` is keyed "es->en" (query language -> document language); each
    value also holds `queries`, how many queries had such a relevant document.
    """

    overall: dict[str, float]
    by_language: dict[str, dict[str, float]] = field(default_factory=dict)
    same_language: dict[str, dict[str, float]] = field(default_factory=dict)
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


def same_language_qrels(
    qrels: Qrels, *, query_languages: Mapping[str, str], doc_languages: Mapping[str, str]
) -> dict[str, dict[str, int]]:
    """Each query's relevant documents in its own language (documents of unknown language dropped)."""
    restricted: dict[str, dict[str, int]] = {}
    for query, docs in qrels.items():
        language = query_languages.get(query)
        kept = {doc: grade for doc, grade in docs.items() if doc_languages.get(doc) == language}
        if language is not None and kept:
            restricted[query] = kept
    return restricted


def cross_lingual_qrels(
    qrels: Qrels,
    *,
    query_languages: Mapping[str, str],
    doc_languages: Mapping[str, str],
    source: str,
    target: str,
) -> dict[str, dict[str, int]]:
    """Queries in `source` with only their relevant documents in `target` (!= `source`).

    Recall@10 on these qrels is the cross-lingual recall of the direction source->target.
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


def evaluate_splits(
    qrels: Qrels,
    rankings: Rankings,
    *,
    query_languages: Mapping[str, str],
    doc_languages: Mapping[str, str],
) -> SplitMetrics:
    """Overall, per query language, same-language and per cross-lingual direction.

    `qrels` should hold exactly the evaluated queries; `query_languages` maps each to
    its language and `doc_languages` the documents whose language is known.
    """
    overall = evaluate_rankings(qrels, rankings)
    languages = sorted({query_languages[query] for query in qrels})
    by_language: dict[str, dict[str, float]] = {}
    same_language: dict[str, dict[str, float]] = {}
    for language in languages:
        ids = [query for query in qrels if query_languages[query] == language]
        by_language[language] = evaluate_rankings(qrels_for_queries(qrels, ids), rankings)
        own = same_language_qrels(
            qrels_for_queries(qrels, ids),
            query_languages=query_languages,
            doc_languages=doc_languages,
        )
        if own:
            same_language[language] = evaluate_rankings(own, rankings, _SPLIT_METRICS)
            same_language[language]["queries"] = float(len(own))
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
    return SplitMetrics(overall, by_language, same_language, cross_lingual)
