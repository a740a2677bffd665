"""Per-leg runs and offline re-fusion: where hybrid loses to one of its own legs.

`python -m search.evaluation.legs --data DIR [--max-queries N]` indexes a set like
`make eval`, asks the real engine for each leg's passage ranking (lexical, then
semantic: the very lists the engine fuses), and then re-fuses them here, without
the engine, under a few named recipes: RRF with another k, RRF with leg weights
(Cormack, Clarke and Büttcher, SIGIR 2009, with a weight per run), and RRF with
boilerplate passages demoted (`indexer.boilerplate`). Each recipe is scored like
`make eval` (ranx, per query language, cross-lingual recall). The plain recipe
reproduces the engine's hybrid ranking (up to exact ties, which the engine breaks
by row and this by passage id), which checks the set-up. Last, it lists
the queries where hybrid scores below its best leg, with each relevant article's
rank in every leg and the articles hybrid put above it.

A diagnosis tool for choosing fusion settings; the engine never imports it.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.boilerplate import BOILERPLATE_RULES
from indexer.encoder import Encoder
from indexer.settings import default_model_ref
from search.engine import SearchEngine
from search.evaluation.beir import DataSet, load_beir
from search.evaluation.metrics import SplitMetrics, evaluate_splits
from search.evaluation.run import engine_over_corpus
from search.evaluation.sampling import query_language, select_queries
from search.models import PER_ARTICLE_RANGE, SearchRequest

__all__ = [
    "RECIPES",
    "LegRuns",
    "Recipe",
    "collect_leg_runs",
    "fuse_recipe",
    "leg_articles",
    "main",
    "ndcg_at_10",
]

Ranked = list[tuple[str, str, float]]  # (passage id, article id, the leg's score), best first


@dataclass(frozen=True, slots=True)
class LegRuns:
    """One query's lexical and semantic passage rankings, as the engine's legs return them."""

    lexical: Ranked
    semantic: Ranked
    translations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Recipe:
    """Weighted RRF: score = sum over legs of weight / (rrf_k + rank), times `demote`
    for a passage flagged as content-free boilerplate (photo credit, bio, ...)."""

    name: str
    rrf_k: int = 60
    lexical_weight: float = 1.0
    semantic_weight: float = 1.0
    demote: float = 1.0  # 1: boilerplate counts as any passage; 0: it drops to the end


RECIPES: tuple[Recipe, ...] = (
    Recipe("rrf60 (the paper's k)"),
    Recipe("rrf20 (the engine's k before its feedback leg)", rrf_k=20),
    Recipe("rrf10 (the engine's k; its feedback leg is not re-fused here)", rrf_k=10),
    Recipe("rrf60 semantic x0.5", semantic_weight=0.5),
    Recipe("rrf60 boilerplate x0.5", demote=0.5),
    Recipe("rrf20 boilerplate x0.5", rrf_k=20, demote=0.5),
)
_CONTENT_FREE = frozenset(rule.name for rule in BOILERPLATE_RULES if not rule.carries_content)


def collect_leg_runs(
    engine: SearchEngine, queries: Mapping[str, str], *, depth: int = 100
) -> dict[str, LegRuns]:
    """Each leg's ranking for each query (id -> text), passages not grouped by article."""
    runs: dict[str, LegRuns] = {}
    for query_id, text in queries.items():
        legs: dict[str, Ranked] = {}
        translations: dict[str, str] = {}
        for mode in ("lexical", "semantic"):
            request = SearchRequest(
                query=text,
                mode=mode,
                limit=depth,
                per_article=PER_ARTICLE_RANGE[1],
                highlight=False,
            )
            response = engine.search(request)
            translations = response.translations
            legs[mode] = [
                (
                    hit.passage_id,
                    hit.article_id,
                    leg.score if (leg := hit.lexical or hit.semantic) else 0.0,
                )
                for hit in response.results
            ]
        runs[query_id] = LegRuns(legs["lexical"], legs["semantic"], translations)
    return runs


def fuse_recipe(runs: LegRuns, recipe: Recipe, *, boilerplate: Mapping[str, str]) -> list[str]:
    """Article ids best first (each at its best passage) under `recipe`.

    `boilerplate` maps a passage id to its rule name; only content-free rules are
    demoted (a quoted tweet can be the answer).
    """
    scores: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    article_of: dict[str, str] = {}
    for ranked, weight in (
        (runs.lexical, recipe.lexical_weight),
        (runs.semantic, recipe.semantic_weight),
    ):
        for rank, (passage, article, _) in enumerate(ranked, start=1):
            scores[passage] = scores.get(passage, 0.0) + weight / (recipe.rrf_k + rank)
            best_rank[passage] = min(best_rank.get(passage, rank), rank)
            article_of[passage] = article
    for passage in scores:
        if boilerplate.get(passage) in _CONTENT_FREE:
            scores[passage] *= recipe.demote
    order = sorted(scores, key=lambda p: (-scores[p], best_rank[p], p))
    return list(dict.fromkeys(article_of[passage] for passage in order))


def leg_articles(ranked: Ranked) -> list[str]:
    return list(dict.fromkeys(article for _, article, _ in ranked))


def ndcg_at_10(ranking: Sequence[str], judged: Mapping[str, int]) -> float:
    """nDCG@10 with linear gains, as ranx computes it; for per-query diagnostics only."""
    gain = sum(judged.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranking[:10]))
    ideal = sorted(judged.values(), reverse=True)[:10]
    best = sum(grade / math.log2(rank + 2) for rank, grade in enumerate(ideal))
    return gain / best if best else 0.0


def _evaluate(
    data_set: DataSet, rankings: Mapping[str, list[str]], languages: Mapping[str, str]
) -> SplitMetrics:
    qrels = {query: dict(data_set.qrels[query]) for query in rankings}
    doc_languages = {doc.id: (doc.lang or doc.id.split("-")[0]).lower() for doc in data_set.corpus}
    return evaluate_splits(qrels, rankings, query_languages=languages, doc_languages=doc_languages)


def _line(name: str, metrics: SplitMetrics) -> str:
    cells = [f"{metrics.overall['ndcg@10']:.3f}"]
    cells += [f"{lang} {m['ndcg@10']:.3f}" for lang, m in sorted(metrics.by_language.items())]
    cells += [f"xR@10 {d} {m['recall@10']:.3f}" for d, m in sorted(metrics.cross_lingual.items())]
    return f"| {name} | " + " | ".join(cells) + " |"


def _report(data_set: DataSet, runs: dict[str, LegRuns], boilerplate: Mapping[str, str]) -> None:
    texts = {query.id: query for query in data_set.queries}
    languages = {query: query_language(texts[query]) for query in runs}
    print(f"## {data_set.name}: {len(runs)} queries (nDCG@10 overall, per language; xR@10)\n")
    for leg in ("lexical", "semantic"):
        rankings = {q: leg_articles(getattr(r, leg)) for q, r in runs.items()}
        print(_line(leg, _evaluate(data_set, rankings, languages)))
    for recipe in RECIPES:
        rankings = {q: fuse_recipe(r, recipe, boilerplate=boilerplate) for q, r in runs.items()}
        print(_line(recipe.name, _evaluate(data_set, rankings, languages)))
    print(
        "\nHybrid (rrf60) below its best leg: relevant articles' ranks (hybrid / lexical / "
        "semantic), and what hybrid put above them.\n"
    )
    for query_id, legs in runs.items():
        judged = data_set.qrels[query_id]
        lexical, semantic = leg_articles(legs.lexical), leg_articles(legs.semantic)
        hybrid = fuse_recipe(legs, RECIPES[0], boilerplate=boilerplate)
        best = max(ndcg_at_10(lexical, judged), ndcg_at_10(semantic, judged))
        if ndcg_at_10(hybrid, judged) >= best - 1e-9:
            continue
        query = texts[query_id]
        print(
            f"- {query_id} [{languages[query_id]}] {query.text!r} translations={legs.translations}"
        )
        deepest = max((hybrid.index(doc) if doc in hybrid else 9) for doc in judged)
        for position, doc in enumerate(hybrid[: min(deepest, 9) + 1], start=1):
            grade = f"rel {judged[doc]}" if doc in judged else "     "
            print(
                f"    {grade} hybrid {position:>2} lexical {_rank(lexical, doc):>4} "
                f"semantic {_rank(semantic, doc):>4}  {doc}"
            )


def _rank(ranking: list[str], doc: str) -> str:
    return str(ranking.index(doc) + 1) if doc in ranking else "–"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.evaluation.legs", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="a BEIR-layout folder")
    parser.add_argument("--max-queries", type=int, help="an even slice per language")
    args = parser.parse_args(argv)
    data_set = load_beir(args.data)
    queries = select_queries(data_set.judged_queries(), args.max_queries)
    encoder = Encoder(default_model_ref(), threads=1)
    with engine_over_corpus(data_set.corpus, encoder=encoder, prefix="search-legs-") as engine:
        boilerplate = {
            p.passage_id: p.boilerplate for p in engine.snapshot.store.passages() if p.boilerplate
        }
        runs = collect_leg_runs(engine, {query.id: query.text for query in queries})
    _report(data_set, runs, boilerplate)
    return 0


if __name__ == "__main__":
    sys.exit(main())
