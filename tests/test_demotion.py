"""Content-free boilerplate ranks lower after fusion; its text stays searchable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.boilerplate import is_content_free
from search.demotion import BOILERPLATE_WEIGHT, demote_boilerplate
from search.engine import SearchEngine
from search.fusion import FusedRanking, reciprocal_rank_fusion
from search.models import Hit, SearchRequest
from tests.conftest import SEEDS


def _ranking(*keys: int) -> FusedRanking:
    """The keys fused from one leg, in this order (RRF, k = 60)."""
    return reciprocal_rank_fusion({"lexical": [Hit(key, 1.0) for key in keys]})


@pytest.mark.fast
def test_a_bio_sinks_below_content_and_a_tweet_does_not() -> None:
    labels = {0: "author_bio", 1: None, 2: "tweet_embed", 3: None}
    # 1/61 > 1/62 > 1/63 > 1/64: halved, the bio's 1/61 falls below 1/63 only
    hits = _ranking(0, 1, 2, 3)
    content_free = np.array([is_content_free(labels.get(row)) for row in range(4)])
    ranked = demote_boilerplate(hits, content_free=content_free)
    assert ranked.keys.tolist() == [1, 2, 3, 0]
    assert ranked[3].score == pytest.approx(BOILERPLATE_WEIGHT / 61)
    assert ranked[1] == hits[2]  # a quoted tweet carries content: untouched
    assert ranked[3].legs == hits[0].legs  # where the legs put it is still shown


@pytest.mark.fast
def test_equal_scores_keep_their_order() -> None:
    ranking = reciprocal_rank_fusion({"a": [Hit(5, 1.0)], "b": [Hit(3, 1.0)], "c": [Hit(9, 1.0)]})
    content_free = np.zeros(10, dtype=np.bool_)
    content_free[9] = True
    demoted = demote_boilerplate(ranking, content_free=content_free)
    assert demoted.keys.tolist() == [3, 5, 9]


@pytest.mark.fast
def test_nothing_labelled_nothing_moves() -> None:
    hits = _ranking(5, 3, 9)
    assert demote_boilerplate(hits, content_free=np.zeros(10, dtype=np.bool_)) == hits
    empty = FusedRanking.empty()
    assert demote_boilerplate(empty, content_free=np.zeros(0, dtype=np.bool_)) == empty


def test_on_the_seeds_cartel_shows_no_author_bio(tmp_path: Path, build, encoder) -> None:  # type: ignore[no-untyped-def]
    report = build([SEEDS], tmp_path / "index", translation="off")
    bios = {
        p.passage_id
        for p in SearchEngine(tmp_path / "index", encoder=encoder).snapshot.store.passages()
        if p.boilerplate == "author_bio"
    }
    assert bios, report.manifest  # the seeds have one: the authors of seed 002
    engine = SearchEngine(tmp_path / "index", encoder=encoder)
    response = engine.search(SearchRequest(query="cartel", mode="hybrid", limit=10))
    assert bios.isdisjoint(r.passage_id for r in response.results)
    everything = engine.search(SearchRequest(query="Cartel Chronicles", per_article=20, limit=50))
    assert bios & {r.passage_id for r in everything.results}  # still findable
