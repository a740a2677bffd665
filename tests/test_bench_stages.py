"""`make bench`'s in-process parts: every stage of a hybrid query is timed, the timers
come off afterwards, and the pure steps are measured."""

from __future__ import annotations

import pytest

import search.fusion
from search.bench.stages import STAGES, fusion_ms, result_building_ms, stage_breakdown
from search.engine import SearchEngine
from search.lexical import LexicalRetriever
from search.results import ResultBuilder
from tests.corpus import write_corpus
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    root = tmp_path_factory.mktemp("bench")
    encoder = FakeEncoder()
    build_fake_index([write_corpus(root / "corpus")], root / "index", encoder=encoder)
    return SearchEngine(root / "index", encoder=encoder)


def test_every_stage_is_timed_and_the_timers_come_off(engine: SearchEngine) -> None:
    originals = (LexicalRetriever.search, ResultBuilder.build, search.fusion.fuse)
    breakdown = stage_breakdown(engine, ["hurricane landfall", "AND (", "sequía"], mode="hybrid")
    assert (LexicalRetriever.search, ResultBuilder.build, search.fusion.fuse) == originals
    expected = {stage for stage, *_ in STAGES}
    assert expected <= set(breakdown.stages)
    assert breakdown.stages["engine.search, total"].count == 3
    assert breakdown.stages["fusion"].p50 > 0  # hybrid: two legs were fused
    assert breakdown.builds  # result builds were recorded for the replay
    page = result_building_ms(breakdown.builds, page=1)
    assert page.count == len(breakdown.builds) and page.p50 > 0


def test_fusion_is_measured_for_both_methods() -> None:
    timings = fusion_ms(candidates=10, samples=3, repeats=1)
    assert set(timings) == {"rrf", "weighted"}
    assert all(summary.count == 3 for summary in timings.values())
