"""Offline re-fusion of saved leg runs (`search.evaluation.legs`): pure, no engine."""

from __future__ import annotations

import pytest

from search.evaluation.legs import LegRuns, Recipe, fuse_recipe, leg_articles, ndcg_at_10

RUNS = LegRuns(
    lexical=[("a#0", "a", 9.0), ("b#1", "b", 5.0), ("c#0", "c", 1.0)],
    semantic=[("b#0", "b", 0.7), ("c#0", "c", 0.6), ("a#0", "a", 0.2)],
)


def test_plain_rrf_counts_both_legs_and_keeps_each_article_once() -> None:
    # a: 1/61 + 1/63; c: 1/63 + 1/62; b: best passages b#0 (1/61) and b#1 (1/62)
    assert fuse_recipe(RUNS, Recipe("rrf60"), boilerplate={}) == ["a", "c", "b"]
    assert leg_articles(RUNS.semantic) == ["b", "c", "a"]


def test_leg_weights_and_k_change_the_order() -> None:
    lexical_only = Recipe("lexical", semantic_weight=0.0)
    assert fuse_recipe(RUNS, lexical_only, boilerplate={}) == ["a", "b", "c"]
    assert fuse_recipe(RUNS, Recipe("semantic", lexical_weight=0.0), boilerplate={}) == [
        "b",
        "c",
        "a",
    ]


def test_only_content_free_boilerplate_is_demoted() -> None:
    demote = Recipe("demote", demote=0.0)
    assert fuse_recipe(RUNS, demote, boilerplate={"a#0": "author_bio"}) == ["c", "b", "a"]
    assert fuse_recipe(RUNS, demote, boilerplate={"a#0": "tweet_embed"}) == ["a", "c", "b"]


def test_ndcg_at_10_uses_graded_gains() -> None:
    assert ndcg_at_10(["x", "y"], {"x": 2, "y": 1}) == 1.0
    assert ndcg_at_10(["y", "x"], {"x": 2, "y": 1}) == pytest.approx(
        (1 + 2 / 1.584962500721156) / (2 + 1 / 1.584962500721156)
    )
    assert ndcg_at_10([], {"x": 1}) == 0.0
