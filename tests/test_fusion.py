"""Golden examples and properties for rank fusion (pure, fast)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from search.fusion import FusedHit, add_rrf_run, fuse, reciprocal_rank_fusion, weighted_fusion
from search.models import Hit, LegRank

pytestmark = pytest.mark.fast


def hits(*pairs: tuple[int, float]) -> list[Hit]:
    return [Hit(key=key, score=score) for key, score in pairs]


# --- reciprocal rank fusion -------------------------------------------------------


def test_rrf_hand_computed() -> None:
    runs = {
        "lexical": hits((1, 12.0), (2, 9.5), (3, 4.0)),
        "semantic": hits((3, 0.91), (1, 0.80)),
    }
    # k = 60:
    #   doc 1: lexical rank 1, semantic rank 2 -> 1/61 + 1/62 = 0.016393 + 0.016129 = 0.032522
    #   doc 3: lexical rank 3, semantic rank 1 -> 1/63 + 1/61 = 0.015873 + 0.016393 = 0.032266
    #   doc 2: lexical rank 2 only            -> 1/62           = 0.016129
    fused = reciprocal_rank_fusion(runs, k=60)
    assert [hit.key for hit in fused] == [1, 3, 2]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 62)
    assert fused[1].score == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2].score == pytest.approx(1 / 62)
    assert fused[0].legs == {
        "lexical": LegRank(rank=1, score=12.0),
        "semantic": LegRank(rank=2, score=0.80),
    }
    assert fused[2].legs == {"lexical": LegRank(rank=2, score=9.5)}


def test_rrf_default_k_is_60() -> None:
    fused = reciprocal_rank_fusion({"a": hits((7, 1.0))})
    assert fused == [FusedHit(key=7, score=1 / 61, legs={"a": LegRank(rank=1, score=1.0)})]


def test_rrf_ties_broken_by_best_rank_then_key() -> None:
    # Docs 10 and 20 swap ranks 1 and 3 between the legs: 1/61 + 1/63 = 0.032266 each, an
    # exact tie, and both have best rank 1 -> key decides.
    # Doc 30 is rank 2 in both: 2/62 = 0.032258, just below (1/(k+r) is convex in r).
    # Docs 40 and 50 each appear once at rank 4: a tie on score and on best rank -> key.
    runs = {
        "a": hits((10, 0.0), (30, 0.0), (20, 0.0), (50, 0.0)),
        "b": hits((20, 0.0), (30, 0.0), (10, 0.0), (40, 0.0)),
    }
    fused = reciprocal_rank_fusion(runs)
    assert [hit.key for hit in fused] == [10, 20, 30, 40, 50]
    assert fused[0].score == fused[1].score


def test_rrf_tie_prefers_better_single_rank() -> None:
    # With k = 1: doc 1 ranks 1 and 5 -> 1/2 + 1/6 = 2/3; doc 2 ranks 2 and 2 -> 1/3 + 1/3 = 2/3.
    runs = {
        "a": hits((1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0), (5, 0.0)),
        "b": hits((3, 0.0), (2, 0.0), (4, 0.0), (5, 0.0), (1, 0.0)),
    }
    fused = reciprocal_rank_fusion(runs, k=1)
    by_key = {hit.key: hit for hit in fused}
    assert by_key[1].score == by_key[2].score
    keys = [hit.key for hit in fused]
    assert keys.index(1) < keys.index(2)


def test_rrf_duplicate_key_counts_first_occurrence_only() -> None:
    runs = {"a": hits((5, 3.0), (5, 2.0), (6, 1.0))}
    fused = reciprocal_rank_fusion(runs, k=60)
    assert [hit.key for hit in fused] == [5, 6]
    assert fused[0].score == pytest.approx(1 / 61)
    assert fused[0].legs == {"a": LegRank(rank=1, score=3.0)}
    # The duplicate is dropped before ranking, so doc 6 is the second distinct passage.
    assert fused[1].legs == {"a": LegRank(rank=2, score=1.0)}
    assert fused[1].score == pytest.approx(1 / 62)


def test_rrf_empty_runs() -> None:
    assert reciprocal_rank_fusion({}) == []
    assert reciprocal_rank_fusion({"a": [], "b": []}) == []
    fused = reciprocal_rank_fusion({"a": [], "b": hits((1, 0.5))})
    assert [(hit.key, dict(hit.legs)) for hit in fused] == [(1, {"b": LegRank(1, 0.5)})]


@pytest.mark.parametrize("k", [0, -1, -60])
def test_rrf_k_must_be_positive(k: int) -> None:
    with pytest.raises(ValueError, match="k must be >= 1"):
        reciprocal_rank_fusion({"a": hits((1, 1.0))}, k=k)


def test_rrf_does_not_mutate_inputs() -> None:
    lexical = hits((1, 2.0), (2, 1.0))
    runs = {"lexical": lexical}
    reciprocal_rank_fusion(runs)
    assert runs == {"lexical": hits((1, 2.0), (2, 1.0))}


# --- weighted fusion ----------------------------------------------------------------


def test_weighted_hand_computed() -> None:
    runs = {
        "lexical": hits((1, 10.0), (2, 6.0), (3, 2.0)),
        "semantic": hits((3, 0.9), (4, 0.5), (1, 0.1)),
    }
    # min-max per run:
    #   lexical : (s - 2) / 8   -> doc1 1.0, doc2 0.5, doc3 0.0
    #   semantic: (s - 0.1)/0.8 -> doc3 1.0, doc4 0.5, doc1 0.0
    # weights lexical 0.25, semantic 0.75:
    #   doc1 = 0.25*1.0 + 0.75*0.0 = 0.25
    #   doc2 = 0.25*0.5            = 0.125
    #   doc3 = 0.25*0.0 + 0.75*1.0 = 0.75
    #   doc4 =            0.75*0.5 = 0.375
    fused = weighted_fusion(runs, weights={"lexical": 0.25, "semantic": 0.75})
    assert [hit.key for hit in fused] == [3, 4, 1, 2]
    assert [hit.score for hit in fused] == pytest.approx([0.75, 0.375, 0.25, 0.125])
    assert fused[0].legs == {
        "lexical": LegRank(rank=3, score=2.0),
        "semantic": LegRank(rank=1, score=0.9),
    }


RUNS_FOR_ALPHA = {
    "lexical": hits((1, 9.0), (2, 7.0), (3, 7.0), (4, 1.0)),
    "semantic": hits((5, 0.8), (4, 0.7), (3, 0.2), (6, -0.3)),
}


def test_alpha_zero_is_purely_lexical() -> None:
    fused = weighted_fusion(RUNS_FOR_ALPHA, weights={"lexical": 1.0, "semantic": 0.0})
    # Lexical order (2 and 3 tie on score, lexical rank decides), then semantic-only
    # candidates with score 0 in semantic order, even though doc 4 also scores 0.
    assert [hit.key for hit in fused] == [1, 2, 3, 4, 5, 6]
    assert [hit.score for hit in fused][-3:] == [0.0, 0.0, 0.0]


def test_alpha_one_is_purely_semantic() -> None:
    fused = weighted_fusion(RUNS_FOR_ALPHA, weights={"lexical": 0.0, "semantic": 1.0})
    assert [hit.key for hit in fused] == [5, 4, 3, 6, 1, 2]
    assert [hit.score for hit in fused][-3:] == [0.0, 0.0, 0.0]


def test_weighted_equal_scores_normalise_to_one() -> None:
    runs = {"lexical": hits((1, 3.0), (2, 3.0)), "semantic": hits((2, 0.4))}
    fused = weighted_fusion(runs, weights={"lexical": 0.5, "semantic": 0.5})
    # lexical: all equal -> 1.0 each; semantic: a single candidate -> 1.0
    # doc2 = 0.5 + 0.5 = 1.0, doc1 = 0.5
    assert [(hit.key, hit.score) for hit in fused] == [(2, 1.0), (1, 0.5)]


def test_weighted_empty_runs_contribute_nothing() -> None:
    runs = {"lexical": [], "semantic": hits((1, 0.2), (2, 0.1))}
    fused = weighted_fusion(runs, weights={"lexical": 0.5, "semantic": 0.5})
    assert [(hit.key, hit.score) for hit in fused] == [(1, 0.5), (2, 0.0)]
    assert weighted_fusion({}, weights={}) == []


def test_weighted_duplicate_key_uses_first_occurrence() -> None:
    runs = {"a": hits((1, 5.0), (2, 3.0), (1, 1.0))}
    fused = weighted_fusion(runs, weights={"a": 1.0})
    # distinct scores 5 and 3 -> 1.0 and 0.0; the duplicate 1.0 is ignored
    assert [(hit.key, hit.score) for hit in fused] == [(1, 1.0), (2, 0.0)]


def test_weighted_handles_huge_score_span() -> None:
    runs = {"a": hits((1, 1e308), (2, 0.0), (3, -1e308))}
    fused = weighted_fusion(runs, weights={"a": 1.0})
    assert [(hit.key, hit.score) for hit in fused] == [(1, 1.0), (2, 0.5), (3, 0.0)]


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, -math.inf])
def test_weighted_rejects_invalid_weights(bad: float) -> None:
    with pytest.raises(ValueError, match="finite number >= 0"):
        weighted_fusion({"a": hits((1, 1.0))}, weights={"a": bad})


def test_weighted_requires_a_weight_per_run() -> None:
    with pytest.raises(ValueError, match="No weight for run 'semantic'"):
        weighted_fusion({"semantic": hits((1, 1.0))}, weights={"lexical": 1.0})


def test_weighted_rejects_non_finite_scores() -> None:
    with pytest.raises(ValueError, match="non-finite score"):
        weighted_fusion({"a": hits((1, math.nan))}, weights={"a": 1.0})


# --- fuse -----------------------------------------------------------------------------


def test_fuse_dispatches_by_method() -> None:
    runs = {"lexical": hits((1, 2.0), (2, 1.0)), "semantic": hits((2, 0.9), (1, 0.1))}
    weights = {"lexical": 0.3, "semantic": 0.7}
    assert fuse(runs, method="rrf", rrf_k=10) == reciprocal_rank_fusion(runs, k=10)
    assert fuse(runs, method="weighted", weights=weights) == weighted_fusion(runs, weights=weights)


def test_fuse_weighted_needs_weights() -> None:
    with pytest.raises(ValueError, match="needs weights"):
        fuse({"a": []}, method="weighted")


def test_fuse_rejects_unknown_method() -> None:
    with pytest.raises(ValueError, match="Unknown fusion method"):
        fuse({"a": []}, method="borda")  # type: ignore[arg-type]


def test_fused_hit_is_hashable() -> None:
    (fused,) = reciprocal_rank_fusion({"a": hits((1, 1.0))})
    assert hash(fused) == hash(FusedHit(key=1, score=fused.score, legs={}))


# --- properties -----------------------------------------------------------------------

_RUN = st.lists(
    st.builds(
        Hit,
        key=st.integers(min_value=0, max_value=30),
        score=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    ),
    max_size=20,
)
_RUNS = st.dictionaries(st.sampled_from(["lexical", "semantic", "title"]), _RUN, max_size=3)


@given(_RUNS, _RUN, st.integers(min_value=1, max_value=200))
def test_adding_a_run_equals_fusing_every_run_at_once(
    runs: dict[str, list[Hit]], added: list[Hit], k: int
) -> None:
    fused = reciprocal_rank_fusion(runs, k=k)
    assert add_rrf_run(fused, "feedback", added, k=k) == reciprocal_rank_fusion(
        {**runs, "feedback": added}, k=k
    )


@given(_RUNS, st.integers(min_value=1, max_value=200))
def test_rrf_properties(runs: dict[str, list[Hit]], k: int) -> None:
    fused = reciprocal_rank_fusion(runs, k=k)
    assert {hit.key for hit in fused} == {hit.key for run in runs.values() for hit in run}
    assert len(fused) == len({hit.key for hit in fused})
    scores = [hit.score for hit in fused]
    assert scores == sorted(scores, reverse=True)
    for hit in fused:
        assert 0 < hit.score <= len(runs) / (k + 1) + 1e-12
        assert set(hit.legs) <= set(runs)
        # exact check of the formula with rationals
        expected = sum(Fraction(1, k + leg.rank) for leg in hit.legs.values())
        assert hit.score == pytest.approx(float(expected))


@given(_RUNS, st.data())
def test_weighted_properties(runs: dict[str, list[Hit]], data: st.DataObject) -> None:
    weights = {
        name: data.draw(st.floats(min_value=0, max_value=10, allow_nan=False)) for name in runs
    }
    fused = weighted_fusion(runs, weights=weights)
    assert {hit.key for hit in fused} == {hit.key for run in runs.values() for hit in run}
    scores = [hit.score for hit in fused]
    assert scores == sorted(scores, reverse=True)
    for hit in fused:
        assert 0 <= hit.score <= sum(weights.values()) + 1e-9


_ANY_FINITE_RUN = st.lists(
    st.builds(
        Hit,
        key=st.integers(min_value=0, max_value=30),
        # any float, and often the extremes: a span past the largest float, subnormals
        score=st.one_of(
            st.floats(allow_nan=False, allow_infinity=False),
            st.sampled_from([-1.7e308, 1.7e308, -5e-324, 5e-324, 0.0, 1.0]),
        ),
    ),
    max_size=20,
)


def _weighted_by_definition(
    runs: dict[str, list[Hit]], weights: dict[str, float]
) -> list[tuple[int, float]]:
    """The docstring's formula, computed plainly: min-max scaled first occurrences
    (clamped to [0, 1]), a weighted sum in run order; ordered by score, the best
    rank in a positive-weight run, the best rank anywhere, the key."""
    ranks: dict[int, dict[str, int]] = {}
    norms: dict[str, dict[int, float]] = {}
    for name, run in runs.items():
        first: dict[int, float] = {}
        for hit in run:
            first.setdefault(hit.key, hit.score)
        for rank, key in enumerate(first, start=1):
            ranks.setdefault(key, {})[name] = rank
        low, high = min(first.values(), default=0.0), max(first.values(), default=0.0)
        if math.isfinite(high - low):
            scaled = {k: (s - low) / (high - low) if high > low else 1.0 for k, s in first.items()}
        else:
            half = high / 2 - low / 2
            scaled = {k: (s / 2 - low / 2) / half for k, s in first.items()}
        norms[name] = {key: min(1.0, max(0.0, value)) for key, value in scaled.items()}
    scores = {
        key: math.fsum(weights[name] * norms[name][key] for name in legs)
        for key, legs in ranks.items()
    }

    def order(key: int) -> tuple[float, float, float, int]:
        legs = ranks[key]
        counted = min((r for n, r in legs.items() if weights[n] > 0), default=math.inf)
        return (-scores[key], counted, min(legs.values()), key)

    return [(key, scores[key]) for key in sorted(ranks, key=order)]


@given(
    st.dictionaries(st.sampled_from(["lexical", "semantic", "title"]), _ANY_FINITE_RUN, max_size=3),
    st.data(),
)
def test_weighted_fusion_is_its_definition(runs: dict[str, list[Hit]], data: st.DataObject) -> None:
    weights = {name: data.draw(st.sampled_from([0.0, 0.25, 0.5, 1.0, 3.0])) for name in runs}
    fused = weighted_fusion(runs, weights=weights)
    assert [(hit.key, hit.score) for hit in fused] == _weighted_by_definition(runs, weights)
