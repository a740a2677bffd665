"""Content-free boilerplate ranks lower after fusion; its text stays searchable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.boilerplate import is_content_free
from search.demotion import BOILERPLATE_WEIGHT, demote_boilerplate
from search.engine import SearchEngine
from search.fusion import FusedHit
from search.models import LegRank, SearchRequest
from tests.conftest import SEEDS


def _hit(key: int, score: float) -> FusedHit:
    return FusedHit(key=key, score=score, legs={"lexical": LegRank(key + 1, score)})


@pytest.mark.fast
def test_a_bio_sinks_below_content_and_a_tweet_does_not() -> None:
    labels = {0: "author_bio", 1: None, 2: "tweet_embed", 3: None}
    hits = [_hit(0, 0.040), _hit(1, 0.030), _hit(2, 0.025), _hit(3, 0.010)]
    content_free = np.array([is_content_free(labels.get(row)) for row in range(4)])
    ranked = demote_boilerplate(hits, content_free=content_free)
    assert [hit.key for hit in ranked] == [1, 2, 0, 3]
    assert ranked[2].score == pytest.approx(0.040 * BOILERPLATE_WEIGHT)
    assert ranked[1] is hits[2]  # a quoted tweet carries content: untouched


@pytest.mark.fast
def test_nothing_labelled_nothing_moves() -> None:
    hits = [_hit(5, 0.2), _hit(3, 0.2), _hit(9, 0.1)]
    assert demote_boilerplate(hits, content_free=np.zeros(10, dtype=np.bool_)) == hits
    assert demote_boilerplate([], content_free=np.zeros(0, dtype=np.bool_)) == []


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
