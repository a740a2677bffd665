"""`make bench`'s in-process parts: every stage of a hybrid query is timed, the timers
come off afterwards, and the pure steps are measured."""

from __future__ import annotations

from pathlib import Path

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
    originals = (LexicalRetriever.search, ResultBuilder.build_all, search.fusion.fuse)
    breakdown = stage_breakdown(engine, ["hurricane landfall", "AND (", "sequía"], mode="hybrid")
    assert (LexicalRetriever.search, ResultBuilder.build_all, search.fusion.fuse) == originals
    expected = {stage for stage, *_ in STAGES}
    assert expected <= set(breakdown.stages)
    assert breakdown.stages["engine.search, total"].count == 3
    assert breakdown.stages["fusion"].p50 > 0  # hybrid: two legs were fused
    assert breakdown.builds  # result builds were recorded for the replay
    built = sum(len(args[2]) for _, args, _ in breakdown.builds)  # (builder, snapshot, hits, plan)
    page = result_building_ms(breakdown.builds, page=1)
    assert page.count == built and page.p50 > 0
    assert result_building_ms(breakdown.builds, page=built).count == 1


def test_fusion_is_measured_for_both_methods() -> None:
    timings = fusion_ms(candidates=10, samples=3, repeats=1)
    assert set(timings) == {"rrf", "weighted"}
    assert all(summary.count == 3 for summary in timings.values())


def test_the_build_bench_writes_a_beir_corpus_as_articles_the_indexer_reads(
    tmp_path: Path,
) -> None:
    import json

    from indexer.articles import read_all_articles
    from search.bench.build import write_corpus_articles

    root = tmp_path
    docs = [
        {"_id": "en-1", "text": "Storm makes landfall.", "title": "Storm"},
        {"_id": "es-1", "text": "Sequía en el norte: «agua»."},
    ]
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in docs), encoding="utf-8"
    )
    articles, problems = read_all_articles([write_corpus_articles(root, root / "articles.jsonl")])
    assert problems == []
    assert [(a.id, a.text) for a in articles] == [
        ("en-1", "Storm makes landfall."),
        ("es-1", "Sequía en el norte: «agua»."),
    ]
    assert articles[0].title == "Storm"


def test_a_bench_subprocess_runs_the_checkout_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m` looks in the working directory before PYTHONPATH: launched from this
    checkout, an `--against` checkout used to run this one's code."""
    from search.bench.startup import query_command_seconds
    from tests.conftest import REPO_ROOT

    other = tmp_path / "other-checkout"
    (other / "search").mkdir(parents=True)
    (other / "search" / "__init__.py").write_text("")
    marker = tmp_path / "ran"
    (other / "search" / "__main__.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('other')\n"
    )
    monkeypatch.chdir(REPO_ROOT)
    query_command_seconds(tmp_path / "index", "q", checkout=other)
    assert marker.read_text() == "other"
