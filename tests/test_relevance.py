"""Relevance regression guard: XQuAD and the news set through the real evaluation harness.

XQuAD: the full 480-paragraph bilingual corpus is indexed once for the module
(about a minute on 2 cores) with the session's model, and 150 questions (75
English, 75 Spanish, spread evenly; the Spanish ones are the translations of the
English ones) are run in each mode. The news set (`search/evaluation/data/news`,
50 articles, 82 queries) is small enough to run whole (about 20 s); it is the set
with names ("Sonora", "Arturo Lobo") and name-only queries. The same code as
`make eval`, on a slice, and like it embedding queries as `serve` does: the engine
opens the ONNX export the manifest names (int8, the default), not the model the
session loaded (which builds and exports).

The floors sit just below what was measured (minus 0.005, rounded down to 0.01),
so that a change which costs even a query or two fails: look at the queries it
moved before lowering one. The issue's goal is pinned as it stands: in each
set and query language, hybrid is at least as good as its better leg. The floors
are for the product as shipped: translation on at index and query time
(Apertium). Without Apertium these tests skip outside CI and the run fails under
CI (tests/conftest.py); there is no second, lower set of floors. When a change
makes relevance better, raise the floors (keep the measured value and the date in
the comment). `make eval` prints the whole table.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.encoder import Encoder
from indexer.settings import DEFAULT_ONNX_PRECISION
from search.evaluation.beir import load_beir
from search.evaluation.cli import NEWS_DATA_DIR
from search.evaluation.harness import EvalOptions, EvaluationResult, evaluate_data_set
from search.evaluation.metrics import SplitMetrics
from search.evaluation.report import to_json, to_markdown
from search.evaluation.variants import parse_variants
from tests.conftest import XQUAD

pytestmark = pytest.mark.slow

SLICE_QUERIES = {"xquad": 150, "news": None}  # XQuAD: 75 per language; news: all 82
MODES = "lexical,semantic,hybrid"
SETS = sorted(SLICE_QUERIES)

# nDCG@10 per set, mode and query language ("all" = both). XQuAD judges both
# relevant paragraphs (own language and the parallel one); the news set grades
# articles 2 (answers) or 1 (related). Translation ON at index time (Spanish
# embedded via English) and at query time; engine defaults of 2026-11-22 (RRF k
# 10 with the cross-lingual feedback leg, names kept out of query translation,
# name-only queries answered lexically). Hybrid measured after the feedback leg.
# Passages embedded with the int8 export since 2026-11-23 (one floor moved, below);
# queries by the int8 export too, as `serve` embeds them, since later that day (they
# were embedded by the session's sentence-transformers model before; one floor moved).
NDCG10_FLOORS = {
    # 0.882 / 0.880 / 0.885 on 2026-11-22 (150-query slice); 0.907 / 0.910 / 0.903 on
    # 2026-11-24, once a query's own stop words were searched in no field
    # (`search.function_words`: "the" in Spanish passages, "de" in English ones)
    ("xquad", "lexical", "all"): 0.90,
    ("xquad", "lexical", "en"): 0.90,
    ("xquad", "lexical", "es"): 0.89,
    ("xquad", "semantic", "all"): 0.88,  # measured 0.894 on 2026-11-22
    # 0.925 on 2026-11-22; 0.9165 on 2026-11-23 with int8 passages (the default since):
    # 0.64 of one question's nDCG lost over the slice's 75 English questions, while
    # all 1,190 moved +0.001 (README, "What the missed goals cost")
    ("xquad", "semantic", "en"): 0.91,
    ("xquad", "semantic", "es"): 0.85,  # measured 0.864 on 2026-11-22
    # 0.964 on 2026-11-22 (0.949 before feedback); 0.972 with int8 queries on 2026-11-23
    # (floor 0.95 -> 0.96 then); 0.9595 with the fused int8 export (twelfth session, Spanish
    # 0.9642 -> 0.9482): its quantisation is another draw of small semantic rank changes,
    # which fusion and the feedback leg amplify on these 150 questions. Over all 2,380,
    # hybrid moved 0.9530 -> 0.9526 (en 0.9585 -> 0.9599, es 0.9474 -> 0.9453), within
    # `make eval-precision`'s rule (README, "A fused encoder graph"); so all 0.96 -> 0.95,
    # es 0.95 -> 0.94.
    ("xquad", "hybrid", "all"): 0.95,
    ("xquad", "hybrid", "en"): 0.96,  # measured 0.971 on 2026-11-22 (0.957); 0.9709 fused
    # measured 0.957 on 2026-11-22 (0.941); 0.9482 fused; 0.958 without the query's stop
    # words in the other language's fields (2026-11-24)
    ("xquad", "hybrid", "es"): 0.95,
    ("news", "lexical", "all"): 0.97,  # measured 0.976 on 2026-11-22 (all 82 queries)
    ("news", "lexical", "en"): 0.97,  # measured 0.983 on 2026-11-22
    ("news", "lexical", "es"): 0.96,  # measured 0.970 on 2026-11-22
    ("news", "semantic", "all"): 0.93,  # measured 0.936 on 2026-11-22
    ("news", "semantic", "en"): 0.94,  # measured 0.947 on 2026-11-22
    ("news", "semantic", "es"): 0.92,  # measured 0.926 on 2026-11-22
    ("news", "hybrid", "all"): 0.98,  # measured 0.988 on 2026-11-22 (0.986 before feedback)
    ("news", "hybrid", "en"): 0.98,  # measured 0.991 on 2026-11-22 (0.989)
    ("news", "hybrid", "es"): 0.98,  # measured 0.985 on 2026-11-22 (0.983)
}
# Cross-lingual Recall@10: share of queries whose other-language relevant
# documents are in the top 10 ("es->en": Spanish queries, English documents).
CROSS_RECALL10_FLOORS = {
    # 0.933 both ways on 2026-11-22; 0.947 both ways on 2026-11-24, without the query's
    # stop words in the other language's fields
    ("xquad", "lexical", "en->es"): 0.94,
    ("xquad", "lexical", "es->en"): 0.94,
    # 1.000 on 2026-11-22; 0.987 with 7-bit int8 weights (export v4, sixteenth session):
    # one of the slice's 75 English questions lost its Spanish paragraph from the
    # semantic top 10 (README, "The same int8 products on every CPU")
    ("xquad", "semantic", "en->es"): 0.98,
    # 0.920 on 2026-11-22; 0.907 with int8 queries on 2026-11-23: one question of the
    # slice's 75 Spanish ones lost its English paragraph from the semantic top 10; over
    # all 1,190 Spanish questions 0.910 -> 0.908 (`make eval`, README). 0.893 with 8-bit
    # weights on a CPU without VNNI (saturated products); above the floor with 7-bit ones.
    ("xquad", "semantic", "es->en"): 0.90,
    ("xquad", "hybrid", "en->es"): 0.99,  # measured 1.000 on 2026-11-22
    ("xquad", "hybrid", "es->en"): 0.98,  # measured 0.987 on 2026-11-22 (0.973 before feedback)
    ("news", "lexical", "en->es"): 0.96,  # measured 0.969 on 2026-11-22
    ("news", "lexical", "es->en"): 0.99,  # measured 1.000 on 2026-11-22
    ("news", "semantic", "en->es"): 0.95,  # measured 0.956 on 2026-11-22
    ("news", "semantic", "es->en"): 0.98,  # measured 0.987 on 2026-11-22
    ("news", "hybrid", "en->es"): 0.97,  # measured 0.981 on 2026-11-22 (0.969 before feedback)
    ("news", "hybrid", "es->en"): 0.99,  # measured 1.000 on 2026-11-22
}


def _evaluate(encoder: Encoder, path: Path, max_queries: int | None) -> EvaluationResult:
    options = EvalOptions(
        model_ref=encoder.model_ref,
        variants=parse_variants(MODES),
        max_queries=max_queries,
        query_precision=DEFAULT_ONNX_PRECISION,
    )
    return evaluate_data_set(load_beir(path), options, encoder=encoder)


@pytest.fixture(scope="module")
def xquad_evaluation(encoder: Encoder) -> EvaluationResult:
    if not (XQUAD / "corpus.jsonl").is_file():  # a CI run has stopped already (conftest)
        pytest.skip(f"XQuAD retrieval set not found at {XQUAD} (see shared/eval/xquad/README.md)")
    return _evaluate(encoder, XQUAD, SLICE_QUERIES["xquad"])


@pytest.fixture(scope="module")
def news_evaluation(encoder: Encoder) -> EvaluationResult:
    return _evaluate(encoder, NEWS_DATA_DIR, SLICE_QUERIES["news"])


def _evaluation(request: pytest.FixtureRequest, data_set: str) -> EvaluationResult:
    """The set's evaluation, translation on at both ends, or a skip (the floors are for
    the product; conftest fails a CI run without Apertium before we get here)."""
    evaluation: EvaluationResult = request.getfixturevalue(f"{data_set}_evaluation")
    if not (evaluation.manifest.translation.enabled and evaluation.query_translation):
        pytest.skip("Apertium is not installed: the relevance floors need translation on")
    return evaluation


def _context(evaluation: EvaluationResult, mode: str) -> str:
    """What to look at when a floor fails: translation failures skew everything."""
    variant = next(v for v in evaluation.variants if v.variant.name == mode)
    translation = evaluation.manifest.translation
    return (
        f"translation {'on' if translation.enabled else 'off'} "
        f"({translation.translated_passages}/{evaluation.manifest.passages} passages "
        f"translated); engine notes {variant.notes}; errors {len(variant.errors)}"
    )


def _metrics(evaluation: EvaluationResult, mode: str) -> SplitMetrics:
    return next(v for v in evaluation.variants if v.variant.name == mode).metrics


def _ndcg(metrics: SplitMetrics, language: str) -> float:
    scores = metrics.overall if language == "all" else metrics.by_language[language]
    return scores["ndcg@10"]


@pytest.mark.parametrize("data_set", SETS)
def test_every_query_ran_in_both_languages(request: pytest.FixtureRequest, data_set: str) -> None:
    evaluation = request.getfixturevalue(f"{data_set}_evaluation")
    languages = [query.lang for query in evaluation.queries]
    assert languages.count("en") == languages.count("es") > 0
    assert [v.variant.name for v in evaluation.variants] == MODES.split(",")
    for variant in evaluation.variants:
        assert variant.errors == {}, variant.errors


@pytest.mark.parametrize(("data_set", "mode", "language"), sorted(NDCG10_FLOORS))
def test_ndcg_at_10_floor(
    request: pytest.FixtureRequest, data_set: str, mode: str, language: str
) -> None:
    evaluation = _evaluation(request, data_set)
    measured = _ndcg(_metrics(evaluation, mode), language)
    assert measured >= NDCG10_FLOORS[data_set, mode, language], _context(evaluation, mode)


@pytest.mark.parametrize(("data_set", "mode", "direction"), sorted(CROSS_RECALL10_FLOORS))
def test_cross_lingual_recall_at_10_floor(
    request: pytest.FixtureRequest, data_set: str, mode: str, direction: str
) -> None:
    evaluation = _evaluation(request, data_set)
    recall = _metrics(evaluation, mode).cross_lingual[direction]["recall@10"]
    assert recall >= CROSS_RECALL10_FLOORS[data_set, mode, direction], _context(evaluation, mode)


@pytest.mark.parametrize("language", ["all", "en", "es"])
@pytest.mark.parametrize("data_set", SETS)
def test_hybrid_is_never_worse_than_its_better_leg(
    request: pytest.FixtureRequest, data_set: str, language: str
) -> None:
    evaluation = _evaluation(request, data_set)
    legs = {mode: _ndcg(_metrics(evaluation, mode), language) for mode in MODES.split(",")}
    assert legs["hybrid"] >= max(legs["lexical"], legs["semantic"]), legs


def test_reports_hold_every_mode(xquad_evaluation: EvaluationResult) -> None:
    report = to_json(xquad_evaluation)
    assert [variant["name"] for variant in report["variants"]] == MODES.split(",")
    assert report["counts"]["evaluated_queries"] == SLICE_QUERIES["xquad"]
    assert report["counts"]["judged_documents_not_in_corpus"] == 0
    assert set(report["variants"][0]["metrics"]["cross_lingual"]) == {"en->es", "es->en"}
    table = to_markdown(xquad_evaluation)
    for mode in MODES.split(","):
        assert f"| {mode} | " in table
