"""`python -m search.evaluation.calibrate_floor --data DIR`: measure the meaning floor.

The floor (`search.matching.MEANING_FLOOR`) decides when a passage that shares no
word with the query still *matches* it, by its cosine to the query. Measured on a
BEIR-layout set (XQuAD bilingual) indexed exactly as the service indexes it, and
queried through the engine's semantic leg (so Spanish goes through the same
translate-test pivot as in production):

* relevant: each question's cosine to its relevant paragraphs (its own, and the
  parallel one in the other language), taking a paragraph's best passage;
* top relevant: per question, the better of its two relevant paragraphs (the
  passage a reader must not lose);
* non-relevant: every other paragraph, one cosine per (question, paragraph);
* near miss: per question, the best non-relevant paragraph of the same Wikipedia
  article (same topic, another paragraph: "about the same thing", not the answer);
* off-topic: per question, the best paragraph of any *other* article (the
  nearest thing a query about a volcano meets in an archive about cartels).

Rule: the floor is the 5th percentile of the top-relevant cosines, rounded down to
0.01, so that 95% of questions keep their best relevant passage as a match; the
report says what share of non-relevant passages, near misses and off-topic bests
it rejects at that value, and the same for other floors.

It also measures the twin floor (`search.feedback.TWIN_FLOOR`): when is a passage
in another language the same text as the best match? From the index's own
vectors: for each pair of parallel paragraphs (ids that differ only in their
language prefix, `en-000-00` and `es-000-00`), the best cosine between their
passages ("twins"); for each paragraph and each other-language paragraph of the
same article that is not its twin, the same ("same article"). Rule: the 95th
percentile of the same-article cosines, rounded up to 0.01, so that 95% of
paragraphs that are only about the same thing stay below it; the report says
what share of twins clear it.

Writes artifacts/eval/floor-calibration.json and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.encoder import Encoder
from indexer.settings import default_model_ref
from search.engine import SearchEngine
from search.evaluation.beir import DataSet, load_beir
from search.evaluation.run import engine_over_corpus
from search.evaluation.sampling import select_queries
from search.models import SearchRequest

__all__ = [
    "KEPT_SHARE",
    "choose_floor",
    "choose_twin_floor",
    "main",
    "measure",
    "measure_twins",
    "twin_report",
]

KEPT_SHARE = 0.95  # share of relevant passages the floor must keep
_CANDIDATE_FLOORS = tuple(round(0.05 * step, 2) for step in range(1, 13))  # 0.05 .. 0.60
_PAGE = 100


def _topic(doc_id: str) -> str:
    """XQuAD ids are `<lang>-<article>-<paragraph>`: the article is the topic."""
    parts = doc_id.split("-")
    return parts[1] if len(parts) == 3 else doc_id


def _cosines(engine: SearchEngine, text: str, documents: int) -> dict[str, float]:
    """Every document's best-passage cosine to `text`, through the semantic leg."""
    found: dict[str, float] = {}
    for offset in range(0, documents, _PAGE):
        response = engine.search(
            SearchRequest(
                query=text,
                mode="semantic",
                limit=_PAGE,
                offset=offset,
                depth=1000,
                highlight=False,
                relevance_floor=False,
            )
        )
        for result in response.results:
            assert result.semantic is not None
            found.setdefault(result.article_id, result.semantic.score)
        if len(response.results) < _PAGE:
            break
    return found


def measure(
    engine: SearchEngine, data_set: DataSet, queries: Sequence[Any]
) -> dict[str, list[float]]:
    """Cosine samples: relevant, top_relevant and the best near_miss and off_topic per
    query; non_relevant: every (query, non-relevant document) pair."""
    documents = len(data_set.corpus)
    samples: dict[str, list[float]] = {
        "relevant": [],
        "top_relevant": [],
        "non_relevant": [],
        "near_miss": [],
        "off_topic": [],
    }
    for query in queries:
        relevant = data_set.qrels[query.id]
        topics = {_topic(doc) for doc in relevant}
        cosines = _cosines(engine, query.text[:1000], documents)
        relevant_cosines = [cosines.get(doc, -1.0) for doc in relevant]
        samples["relevant"] += relevant_cosines
        samples["top_relevant"].append(max(relevant_cosines))
        others = [(doc, score) for doc, score in cosines.items() if doc not in relevant]
        samples["non_relevant"] += [score for _, score in others]
        near = [score for doc, score in others if _topic(doc) in topics]
        far = [score for doc, score in others if _topic(doc) not in topics]
        if near:
            samples["near_miss"].append(max(near))
        if far:
            samples["off_topic"].append(max(far))
    return samples


def measure_twins(engine: SearchEngine) -> dict[str, list[float]]:
    """Best passage-to-passage cosines of parallel paragraphs ("twins") and of
    other-language paragraphs of the same article ("same_article"), from the
    vectors of the engine's index."""
    store = engine.snapshot.store
    rows_of: dict[str, list[int]] = {}
    for article in store.articles():
        rows_of[article.id] = [passage.row for passage in store.passages_of(article.id)]
    by_topic: dict[str, list[str]] = {}
    for doc in rows_of:
        by_topic.setdefault(_topic(doc), []).append(doc)
    vectors = engine.snapshot.vectors
    samples: dict[str, list[float]] = {"twins": [], "same_article": []}
    for doc, rows in rows_of.items():
        language, _, rest = doc.partition("-")
        first = vectors.rows(np.array(rows, dtype=np.int64))
        for other in by_topic[_topic(doc)]:
            other_language, _, other_rest = other.partition("-")
            if other_language <= language:  # each pair once, other languages only
                continue
            second = vectors.rows(np.array(rows_of[other], dtype=np.int64))
            best = float((first @ second.T).max())
            samples["twins" if other_rest == rest else "same_article"].append(best)
    return samples


def choose_twin_floor(same_article: Sequence[float], kept_share: float = KEPT_SHARE) -> float:
    """The `kept_share` quantile of the same-article cosines, rounded up to 0.01."""
    value = float(np.quantile(np.asarray(same_article), kept_share, method="higher"))
    return math.ceil(round(value * 100, 6)) / 100  # 0.95 * 100 is 95.00000000000001


def twin_report(samples: dict[str, list[float]]) -> dict[str, Any]:
    floor = choose_twin_floor(samples["same_article"])
    return {
        "rule": f"twin floor = {round(KEPT_SHARE * 100)}th percentile of the cosines of "
        "other-language paragraphs of the same article that are not the twin, rounded up",
        "floor": floor,
        "counts": {name: len(values) for name, values in samples.items()},
        "twins_kept": round(_share_at_or_above(samples["twins"], floor), 3),
        "same_article_rejected": round(1 - _share_at_or_above(samples["same_article"], floor), 3),
        "percentiles": {
            name: {f"p{p}": round(float(np.percentile(values, p)), 3) for p in (5, 50, 95)}
            for name, values in samples.items()
            if values
        },
    }


def choose_floor(relevant: Sequence[float], kept_share: float = KEPT_SHARE) -> float:
    """The (1 - kept_share) quantile of the relevant cosines, rounded down to 0.01."""
    value = float(np.quantile(np.asarray(relevant), 1.0 - kept_share, method="lower"))
    return math.floor(value * 100) / 100


def _share_at_or_above(values: Sequence[float], floor: float) -> float:
    return float(np.mean(np.asarray(values) >= floor)) if values else 0.0


def _shares(samples: dict[str, list[float]], floor: float) -> dict[str, float]:
    """At `floor`: the share of relevant passages kept, of the rest rejected."""
    kept = {name: _share_at_or_above(samples[name], floor) for name in _KEPT}
    rejected = {name: 1 - _share_at_or_above(samples[name], floor) for name in _REJECTED}
    return {
        **{f"{name}_kept": round(value, 3) for name, value in kept.items()},
        **{f"{name}_rejected": round(value, 3) for name, value in rejected.items()},
    }


_KEPT = ("top_relevant", "relevant")
_REJECTED = ("non_relevant", "near_miss", "off_topic")


def report(samples: dict[str, list[float]]) -> dict[str, Any]:
    floor = choose_floor(samples["top_relevant"])
    percentiles = (1, 5, 10, 25, 50, 75, 95, 99)
    return {
        "rule": f"floor = {round((1 - KEPT_SHARE) * 100)}th percentile of each question's "
        "best relevant cosine, rounded down to 0.01",
        "floor": floor,
        "counts": {name: len(values) for name, values in samples.items()},
        "percentiles": {
            name: {f"p{p}": round(float(np.percentile(values, p)), 3) for p in percentiles}
            for name, values in samples.items()
            if values
        },
        "at_floor": _shares(samples, floor),
        "by_floor": [
            {"floor": candidate, **_shares(samples, candidate)} for candidate in _CANDIDATE_FLOORS
        ],
    }


def to_markdown(result: dict[str, Any]) -> str:
    columns = [f"{name}_kept" for name in _KEPT] + [f"{name}_rejected" for name in _REJECTED]
    lines = [
        f"Rule: {result['rule']} -> **{result['floor']:.2f}**",
        "",
        "| floor | " + " | ".join(c.replace("_", " ") for c in columns) + " |",
        "| ---: |" + " ---: |" * len(columns),
    ]
    for row in result["by_floor"]:
        cells = " | ".join(f"{row[c]:.3f}" for c in columns)
        lines.append(f"| {row['floor']:.2f} | {cells} |")
    names = list(result["percentiles"]["relevant"])
    lines += ["", "| cosines | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for name, values in result["percentiles"].items():
        lines.append(f"| {name} | " + " | ".join(f"{v:.3f}" for v in values.values()) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.evaluation.calibrate_floor")
    parser.add_argument("--data", type=Path, required=True, help="BEIR-layout folder")
    parser.add_argument("--max-queries", type=int, help="an even slice per language")
    parser.add_argument("--out", type=Path, default=Path("artifacts/eval/floor-calibration.json"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data_set = load_beir(args.data)
    queries = select_queries(data_set.judged_queries(), args.max_queries)
    encoder = Encoder(default_model_ref(), threads=1)
    with engine_over_corpus(data_set.corpus, encoder=encoder, prefix="search-floor-") as engine:
        translation = engine.translation_available
        samples = measure(engine, data_set, queries)
        twins = twin_report(measure_twins(engine))
    result = report(samples) | {
        "twin_floor": twins,
        "data": str(args.data),
        "queries": len(queries),
        "model": encoder.model_ref,
        "translation": translation,
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(to_markdown(result))
    print(
        f"\nTwin floor: {twins['rule']} -> **{twins['floor']:.2f}**: twins kept "
        f"{twins['twins_kept']:.3f}, same-article pairs rejected "
        f"{twins['same_article_rejected']:.3f}; cosines {json.dumps(twins['percentiles'])}"
    )
    print(f"\n{len(queries)} queries, {result['seconds']} s; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
