"""The feedback leg: the candidates ranked by closeness to the best one, fused third.

Pure ranking on hand-made vectors, then the real engine on a real bilingual index:
the leg only reorders what the two legs found, follows the stored vectors, and is
off where it does not apply. What it gains is held by the relevance floors
(tests/test_relevance.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from fastapi.testclient import TestClient

from search.app import create_app
from search.engine import SearchEngine
from search.feedback import TWIN_FLOOR, feedback_run
from search.fusion import FusedHit
from search.models import Hit, SearchRequest, SearchResult
from tests.corpus import write_corpus

QUERY = "hurricane floods on the coast"

# unit vectors in 2-D: rows 0-4 at 0, 20, 40, 60 and 80 degrees, row 5 repeats row 1
_ANGLES = np.radians([0.0, 20.0, 40.0, 60.0, 80.0, 20.0])
_VECTORS = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1).astype(np.float32)
_EN, _ES = 1, 2
_LANG = np.array([_EN, _ES, _ES, _ES, _ES, _ES], dtype=np.uint8)


def _vectors_of(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
    return _VECTORS[rows]


def _fused(*keys: int) -> list[FusedHit]:
    return [FusedHit(key, 1.0 / (10 + rank), {}) for rank, key in enumerate(keys, start=1)]


def _run(fused: list[FusedHit], runs: dict[str, list[Hit]], floor: float) -> list[Hit]:
    return feedback_run(fused, runs, vectors_of=_vectors_of, row_lang=_LANG, floor=floor)


RUNS = {
    "lexical": [Hit(0, 9.0), Hit(3, 3.0), Hit(5, 2.0)],
    "semantic": [Hit(2, 0.8), Hit(1, 0.7), Hit(4, 0.6)],
}


@pytest.mark.fast
def test_the_best_match_then_its_twins_in_another_language_by_cosine() -> None:
    # seed row 0 (English): rows 1 and 5 at 20 degrees (a tie, broken by row), 2 at
    # 40, 3 at 60; row 4 at 80 degrees is below the floor
    ranked = _run(_fused(0, 2, 1), RUNS, floor=float(np.cos(np.radians(70.0))))
    assert [hit.key for hit in ranked] == [0, 1, 5, 2, 3]
    assert ranked[0].score == pytest.approx(1.0)
    assert ranked[1].score == pytest.approx(float(np.cos(np.radians(20.0))))


@pytest.mark.fast
def test_passages_in_the_best_matchs_own_language_get_no_vote() -> None:
    # seed row 2 (Spanish): only row 0 is in another language
    ranked = _run(_fused(2, 0, 1), RUNS, floor=-1.0)
    assert [hit.key for hit in ranked] == [2, 0]


@pytest.mark.fast
def test_below_the_floor_the_best_match_stands_alone() -> None:
    assert [hit.key for hit in _run(_fused(0, 1), RUNS, floor=0.99)] == [0]


@pytest.mark.fast
def test_nothing_fused_gives_an_empty_leg() -> None:
    assert _run([], {"lexical": [], "semantic": []}, floor=0.6) == []


@pytest.fixture(scope="module")
def engine(tmp_path_factory, build, encoder, translator) -> SearchEngine:  # type: ignore[no-untyped-def]
    root: Path = tmp_path_factory.mktemp("feedback")
    build([write_corpus(root / "corpus")], root / "index", translation="auto")
    return SearchEngine(root / "index", encoder=encoder, translator=translator)


def _search(engine: SearchEngine, **options: object) -> list[SearchResult]:
    request = SearchRequest(
        query=str(options.pop("query", QUERY)),
        limit=100,
        per_article=20,
        relevance_floor=False,
        **options,  # type: ignore[arg-type]
    )
    return engine.search(request).results


def _row(engine: SearchEngine, result: SearchResult) -> int:
    passages = engine.snapshot.store.passages_of(result.article_id)
    return next(p.row for p in passages if p.passage_id == result.passage_id)


def test_hybrid_fuses_the_feedback_leg_over_the_same_passages(engine: SearchEngine) -> None:
    with_feedback = _search(engine)
    without = _search(engine, feedback=False)
    assert {r.passage_id for r in with_feedback} == {r.passage_id for r in without}
    assert all(r.feedback is None for r in without)
    best = with_feedback[0]
    assert best.feedback is not None and best.feedback.rank == 1
    ranked = [(r.feedback.rank, r) for r in with_feedback if r.feedback is not None]
    twins = [r for rank, r in sorted(ranked, key=lambda pair: pair[0]) if rank > 1]
    assert twins, f"no twin of {best.passage_id!r} for {QUERY!r}: the test needs one"
    assert {r.lang for r in twins} == {"es"} and best.lang == "en"
    assert all(r.feedback is None for r in with_feedback if r.lang == best.lang and r != best)
    # the leg's scores are the cosines of the stored vectors, above the floor
    rows = np.array([_row(engine, best)] + [_row(engine, r) for r in twins])
    stored = engine.snapshot.vectors.rows(rows)
    cosines = [r.feedback.score for r in twins]  # type: ignore[union-attr]
    assert cosines == pytest.approx((stored[1:] @ stored[0]).tolist(), abs=1e-5)
    assert cosines == sorted(cosines, reverse=True) and min(cosines) >= TWIN_FLOOR


@pytest.mark.parametrize(
    "options",
    [{"mode": "lexical"}, {"mode": "semantic"}, {"fusion": "weighted", "alpha": 0.5}],
    ids=["lexical", "semantic", "weighted"],
)
def test_no_feedback_leg_where_it_does_not_apply(engine: SearchEngine, options: dict) -> None:  # type: ignore[type-arg]
    assert all(r.feedback is None for r in _search(engine, **options))


def test_the_api_and_the_page_carry_the_leg(engine: SearchEngine) -> None:
    params = {"q": QUERY, "limit": "100", "per_article": "20"}
    with TestClient(create_app(engine, reload_seconds=0)) as client:
        on = client.get("/api/search", params=params).json()["results"]
        off = client.get("/api/search", params={**params, "feedback": "false"}).json()
        page = client.get("/", params=params).text
        spanish_page = client.get("/", params={**params, "ui": "es"}).text
    twins = [r for r in on if r["feedback"] and r["feedback"]["rank"] > 1]
    assert twins and all(r["lang"] == "es" for r in twins)
    assert all(r["feedback"] is None for r in off["results"])
    assert page.count("like the best match, in another language") == len(twins)
    assert spanish_page.count("como el mejor resultado, en otro idioma") == len(twins)
