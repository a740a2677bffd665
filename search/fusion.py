"""Combine the ranked lists of several retrievers ("legs") into one ranking.

Every retriever returns `list[Hit]`, best first; fusion only needs each hit's key
(the passage's row number in the index) and its leg's score. Two explicit methods:

* `reciprocal_rank_fusion`: uses ranks only, so BM25 scores (unbounded, >= 0) and
  cosine similarities ([-1, 1]) never need to be put on one scale.
* `weighted_fusion`: min-max normalises each leg's scores to [0, 1] and takes a
  weighted sum; with weights {"lexical": 1 - alpha, "semantic": alpha} a single
  knob slides from purely lexical (alpha = 0) to purely semantic (alpha = 1).

The method is always named by the caller (`fuse(..., method=...)`), never inferred.
Callers should fetch more candidates per leg than they show: a passage ranked 40th
by both legs can beat one ranked 1st by only one of them.

Both return a `FusedRanking` (`search.fused_ranking`): the candidates as numpy
columns, a sequence of `FusedHit`s on demand. Output order is total and
deterministic: fused score descending, then the best (smallest) rank the passage
got in any counted leg, then key ascending. Scores are summed exactly as
`math.fsum` would (one addition for the usual two legs), so a tie is a tie.
Inputs are never mutated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from search.fused_ranking import FusedHit, FusedRanking
from search.models import Fusion, Hit

__all__ = [
    "FusedHit",
    "FusedRanking",
    "add_rrf_run",
    "fuse",
    "fuse_legs",
    "reciprocal_rank_fusion",
    "weighted_fusion",
]


def reciprocal_rank_fusion(runs: Mapping[str, Sequence[Hit]], *, k: int = 60) -> FusedRanking:
    """Fuse runs by Reciprocal Rank Fusion: score(d) = sum over runs of 1 / (k + rank(d)).

    Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and
    individual Rank Learning Methods", SIGIR 2009; k = 60 is the paper's value. A
    larger k flattens the advantage of the top ranks.

    Each run must already be sorted best first; ranks are 1-based. If a key appears
    more than once in a run, only its first (best) occurrence counts and the later
    ones are dropped before ranking, so ranks count distinct passages.
    """
    _check_k(k)
    return _rrf_ranked(_candidates(runs), k)


def add_rrf_run(
    fused: FusedRanking, name: str, hits: Sequence[Hit], *, k: int = 60
) -> FusedRanking:
    """`fused` (a `reciprocal_rank_fusion` of other runs, with the same `k`) with one
    more run counted: exactly the fusion of all the runs, without ranking the
    others again. For the feedback leg (`search.feedback`)."""
    _check_k(k)
    if name in fused.leg_names:
        raise ValueError(f"Run {name!r} is fused already; give the added run another name.")
    added_keys, added_scores = _distinct(hits)
    if not len(added_keys):
        return fused
    keys, leg_ranks, leg_scores = fused.keys, fused.leg_ranks, fused.leg_scores
    found, known = _positions(keys, added_keys)
    if not known.all():  # passages no other run returned: one more row each
        extra = added_keys[~known]
        keys = np.concatenate([keys, extra])
        leg_ranks = np.pad(leg_ranks, ((0, 0), (0, len(extra))))
        leg_scores = np.pad(leg_scores, ((0, 0), (0, len(extra))))
        found[~known] = np.arange(len(fused.keys), len(keys))
    ranks = np.zeros((1, len(keys)), np.int64)
    scores = np.zeros((1, len(keys)), np.float64)
    ranks[0, found] = np.arange(1, len(added_keys) + 1)
    scores[0, found] = added_scores
    candidates = FusedRanking(
        keys,
        fused.scores,  # replaced below
        (*fused.leg_names, name),
        np.concatenate([leg_ranks, ranks]),
        np.concatenate([leg_scores, scores]),
    )
    return _rrf_ranked(candidates, k)


def weighted_fusion(
    runs: Mapping[str, Sequence[Hit]], *, weights: Mapping[str, float]
) -> FusedRanking:
    """Fuse runs by a weighted sum of min-max normalised scores.

    Each run's scores are mapped to [0, 1] over that run's own candidates:
    (score - min) / (max - min), or 1.0 for all when the run's scores are all equal;
    an empty run contributes nothing. fused(d) = sum over runs of
    weight * norm(d), a run that missed d contributing 0.

    Every run needs a weight; weights must be finite and >= 0 (weights for runs not
    given are ignored, so a leg can be switched off by leaving it out of `runs`).
    Candidates returned only by weight-0 legs still appear, with score 0, and rank
    after every passage some positive-weight leg returned: ties are broken by the
    best rank among positive-weight legs first.
    """
    for name in runs:
        if name not in weights:
            raise ValueError(
                f"No weight for run {name!r}; weights given for {sorted(weights)}. "
                "Give every run a weight (0 to ignore its scores)."
            )
    for name, weight in weights.items():
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"Weight for run {name!r} is {weight!r}; use a finite number >= 0.")
    for name, hits in runs.items():
        for hit in hits:
            if not math.isfinite(hit.score):
                raise ValueError(
                    f"Run {name!r} has a non-finite score {hit.score!r} for key {hit.key}; "
                    "weighted fusion needs finite scores."
                )
    candidates = _candidates(runs)
    terms = (
        np.stack(
            [
                weights[name] * _min_max(ranks, scores)
                for name, ranks, scores in zip(
                    candidates.leg_names, candidates.leg_ranks, candidates.leg_scores, strict=True
                )
            ]
        )
        if len(candidates.leg_names)
        else np.zeros((0, len(candidates)))
    )
    scores = _exact_sum(terms, candidates.leg_ranks > 0)
    positive = [name for name in runs if weights[name] > 0]
    order = np.lexsort(
        (
            candidates.keys,
            candidates.best_ranks(),
            candidates.best_ranks(positive),
            -scores,
        )
    )
    return candidates.with_scores(scores).take(order)


def fuse(
    runs: Mapping[str, Sequence[Hit]],
    *,
    method: Fusion,
    rrf_k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> FusedRanking:
    """Fuse with the named method; `rrf_k` is used only by "rrf", `weights` only by "weighted"."""
    if method == "rrf":
        return reciprocal_rank_fusion(runs, k=rrf_k)
    if method == "weighted":
        if weights is None:
            raise ValueError('Fusion method "weighted" needs weights, e.g. {"lexical": 0.5, ...}.')
        return weighted_fusion(runs, weights=weights)
    raise ValueError(f'Unknown fusion method {method!r}; use "rrf" or "weighted".')


def fuse_legs(
    runs: Mapping[str, Sequence[Hit]], *, method: Fusion, rrf_k: int, alpha: float | None
) -> FusedRanking:
    """The legs that ran, fused: one leg keeps its own order and scores (nothing to
    fuse); two are fused by `method`, weighted fusion with {"lexical": 1 - alpha,
    "semantic": alpha} (alpha 0.5 when None)."""
    if len(runs) == 1:
        name, hits = next(iter(runs.items()))
        keys, scores = _distinct(hits)
        ranks = np.arange(1, len(keys) + 1, dtype=np.int64)
        return FusedRanking(keys, scores, (name,), ranks[np.newaxis], scores[np.newaxis])
    semantic_weight = 0.5 if alpha is None else alpha
    return fuse(
        runs,
        method=method,
        rrf_k=rrf_k,
        weights={"lexical": 1.0 - semantic_weight, "semantic": semantic_weight},
    )


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"RRF k must be >= 1, got {k!r}; the paper uses 60.")


def _rrf_ranked(candidates: FusedRanking, k: int) -> FusedRanking:
    """`candidates` scored by RRF over all their legs and sorted: score descending,
    best rank in any leg, key."""
    ranks = candidates.leg_ranks
    present = ranks > 0
    terms = np.where(present, 1.0 / (k + ranks), 0.0)
    scores = _exact_sum(terms, present)
    order = np.lexsort((candidates.keys, candidates.best_ranks(), -scores))
    return candidates.with_scores(scores).take(order)


def _exact_sum(
    terms: npt.NDArray[np.float64], present: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float64]:
    """Per row (column of `terms`, one row of terms per leg, 0.0 where a leg missed
    it), the sum of its terms as `math.fsum` gives it: with at most two non-zero
    terms one IEEE addition is already correctly rounded, whatever the order; rows
    with three or more are summed by `fsum`."""
    total = terms.sum(axis=0) if len(terms) else np.zeros(terms.shape[1], np.float64)
    if len(terms) > 2:
        many = np.flatnonzero(present.sum(axis=0) > 2)
        if len(many):
            total[many] = [math.fsum(row) for row in terms[:, many].T.tolist()]
    return total


def _positions(
    keys: npt.NDArray[np.int64], wanted: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(where each of `wanted` is in `keys`, whether it is there at all); `keys`
    distinct, in any order."""
    if not len(keys):
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), np.bool_)
    by_key = np.argsort(keys)
    positions = by_key[np.searchsorted(keys, wanted, sorter=by_key).clip(max=len(keys) - 1)]
    return positions, keys[positions] == wanted


def _distinct(hits: Sequence[Hit]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The run's keys and scores, each key's first (best) occurrence only, in order."""
    keys = [hit.key for hit in hits]
    scores = [hit.score for hit in hits]
    if len(set(keys)) < len(keys):
        first = sorted({key: i for i, key in reversed(list(enumerate(keys)))}.values())
        keys = [keys[i] for i in first]
        scores = [scores[i] for i in first]
    return np.array(keys, np.int64), np.array(scores, np.float64)


def _candidates(runs: Mapping[str, Sequence[Hit]]) -> FusedRanking:
    """Every key any run returned, ascending, with each run's ranks (counting
    distinct keys) and scores; fused scores zero, to be fused."""
    distinct = [_distinct(hits) for hits in runs.values()]
    if distinct:
        keys = np.unique(np.concatenate([run_keys for run_keys, _ in distinct]))
    else:
        keys = np.zeros(0, np.int64)
    ranks = np.zeros((len(distinct), len(keys)), np.int64)
    scores = np.zeros((len(distinct), len(keys)), np.float64)
    for leg, (run_keys, run_scores) in enumerate(distinct):
        positions = np.searchsorted(keys, run_keys)
        ranks[leg, positions] = np.arange(1, len(run_keys) + 1)
        scores[leg, positions] = run_scores
    return FusedRanking(keys, np.zeros(len(keys), np.float64), tuple(runs), ranks, scores)


def _min_max(
    ranks: npt.NDArray[np.int64], leg_scores: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The leg's scores scaled to [0, 1] over its own candidates, 0.0 where it
    missed a passage: (score - min) / (max - min), 1.0 for all when they are equal."""
    present = ranks > 0
    scaled = np.zeros(len(ranks), np.float64)
    if not present.any():
        return scaled
    scores = leg_scores[present]
    low, high = float(scores.min()), float(scores.max())
    if high == low:
        scaled[present] = 1.0
        return scaled
    span = high - low
    if math.isfinite(span):
        values = (scores - low) / span
    else:  # e.g. -1e308 .. 1e308: halve everything so the span does not overflow
        half_span = high / 2 - low / 2
        values = (scores / 2 - low / 2) / half_span
    scaled[present] = np.clip(values, 0.0, 1.0)
    return scaled
