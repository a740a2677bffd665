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

Output order is total and deterministic: fused score descending, then the best
(smallest) rank the passage got in any counted leg, then key ascending. Inputs are
never mutated.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from search.models import Fusion, Hit, LegRank

__all__ = [
    "FusedHit",
    "add_rrf_run",
    "fuse",
    "fuse_legs",
    "reciprocal_rank_fusion",
    "weighted_fusion",
]


@dataclass(frozen=True, slots=True)
class FusedHit:
    """A passage after fusion.

    `score` is the fused score (RRF: a sum of 1/(k + rank), at most
    len(runs)/(k + 1); weighted: a weighted sum of [0, 1] scores). `legs` maps each
    leg that returned the passage to its rank and score there, which is what the
    page and the JSON shows to explain a result; legs that missed it are absent.
    """

    key: int
    score: float
    legs: Mapping[str, LegRank] = field(hash=False)


def reciprocal_rank_fusion(runs: Mapping[str, Sequence[Hit]], *, k: int = 60) -> list[FusedHit]:
    """Fuse runs by Reciprocal Rank Fusion: score(d) = sum over runs of 1 / (k + rank(d)).

    Cormack, Clarke and Büttcher, "Reciprocal Rank Fusion outperforms Condorcet and
    individual Rank Learning Methods", SIGIR 2009; k = 60 is the paper's value. A
    larger k flattens the advantage of the top ranks.

    Each run must already be sorted best first; ranks are 1-based. If a key appears
    more than once in a run, only its first (best) occurrence counts and the later
    ones are dropped before ranking, so ranks count distinct passages.
    """
    if k < 1:
        raise ValueError(f"RRF k must be >= 1, got {k!r}; the paper uses 60.")
    # One pass scores each passage and builds its place in `_rrf_order`: every run
    # counts, so its best rank is the tie-break. Keys are distinct: sorting the
    # tuples never compares two legs mappings. (On 200 XQuAD queries' legs, 0.51 ms
    # p50 where scoring, then sorting by a key function, took 0.74.)
    order: list[tuple[float, float, int, dict[str, LegRank]]] = []
    for key, legs in _rank_runs(runs).items():
        best = math.inf
        terms = []
        for leg in legs.values():
            rank = leg.rank
            if rank < best:
                best = rank
            terms.append(1.0 / (k + rank))
        order.append((-_sum(terms), best, key, legs))
    order.sort()
    return [FusedHit(key, -negated, legs) for negated, _, key, legs in order]


def add_rrf_run(
    fused: Sequence[FusedHit], name: str, hits: Sequence[Hit], *, k: int = 60
) -> list[FusedHit]:
    """`fused` (a `reciprocal_rank_fusion` of other runs, with the same `k`) with one
    more run counted: exactly the fusion of all the runs, without ranking and
    summing the others again. The passages the new run holds are re-scored and
    moved up to their place; every other `FusedHit` is kept as it is. For a run of
    a few passages (the feedback leg, `search.feedback`) that is a few binary
    searches instead of a second fusion of 2 x 100 candidates."""
    if k < 1:
        raise ValueError(f"RRF k must be >= 1, got {k!r}; the paper uses 60.")
    added = _rank_runs({name: hits})
    if not added:
        return list(fused)
    before = {hit.key: hit for hit in fused if hit.key in added}
    merged = [hit for hit in fused if hit.key not in added]
    for key, legs in added.items():
        old = before.get(key)
        all_legs = {**old.legs, **legs} if old is not None else legs
        score = _sum([1.0 / (k + leg.rank) for leg in all_legs.values()])
        bisect.insort(merged, FusedHit(key, score, all_legs), key=_rrf_order)
    return merged


def _rrf_order(hit: FusedHit) -> tuple[float, int, int]:
    """The fused order when every run is counted, as in RRF: score descending, then
    the best rank in any run, then the key."""
    return (-hit.score, min(leg.rank for leg in hit.legs.values()), hit.key)


def weighted_fusion(
    runs: Mapping[str, Sequence[Hit]], *, weights: Mapping[str, float]
) -> list[FusedHit]:
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
    scaling = {name: (weights[name], *_min_max(name, hits)) for name, hits in runs.items()}
    positive = frozenset(name for name in runs if weights[name] > 0)
    # One pass scores each passage and builds its sort key, as in RRF: fused score
    # descending, then the best rank in a positive-weight leg, the best rank in any
    # leg, the key. Keys are distinct, so sorting never compares two legs mappings.
    # (2 x 100 candidates: 0.96 ms where normalising into dicts, summing, then
    # sorting took 1.55, CPU medians of 30 alternating rounds on a busy machine.)
    order: list[tuple[float, float, float, int, dict[str, LegRank]]] = []
    for key, legs in _rank_runs(runs).items():
        counted = best = math.inf
        terms = []
        for name, leg in legs.items():
            rank = leg.rank
            if rank < best:
                best = rank
            if rank < counted and name in positive:
                counted = rank
            weight, low, span, halved = scaling[name]
            if span is None:  # the run's scores are all equal: 1.0 each
                terms.append(weight)
            elif halved:
                terms.append(weight * ((leg.score / 2 - low / 2) / span))
            else:
                terms.append(weight * ((leg.score - low) / span))
        order.append((-_sum(terms), counted, best, key, legs))
    order.sort()
    return [FusedHit(key, -negated, legs) for negated, _, _, key, legs in order]


def fuse(
    runs: Mapping[str, Sequence[Hit]],
    *,
    method: Fusion,
    rrf_k: int = 60,
    weights: Mapping[str, float] | None = None,
) -> list[FusedHit]:
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
) -> list[FusedHit]:
    """The legs that ran, fused: one leg keeps its own order and scores (nothing to
    fuse); two are fused by `method`, weighted fusion with {"lexical": 1 - alpha,
    "semantic": alpha} (alpha 0.5 when None)."""
    if len(runs) == 1:
        name, hits = next(iter(runs.items()))
        return [
            FusedHit(key=h.key, score=h.score, legs={name: LegRank(rank, h.score)})
            for rank, h in enumerate(hits, start=1)
        ]
    semantic_weight = 0.5 if alpha is None else alpha
    return fuse(
        runs,
        method=method,
        rrf_k=rrf_k,
        weights={"lexical": 1.0 - semantic_weight, "semantic": semantic_weight},
    )


def _sum(terms: list[float]) -> float:
    """`math.fsum`, without its cost for the usual one or two legs: one IEEE addition
    is already correctly rounded, so a + b is exactly what fsum returns."""
    if len(terms) == 1:
        return terms[0]
    if len(terms) == 2:
        return terms[0] + terms[1]
    return math.fsum(terms)


def _rank_runs(runs: Mapping[str, Sequence[Hit]]) -> dict[int, dict[str, LegRank]]:
    """key -> {run name -> LegRank}, keeping each key's first occurrence per run."""
    legs_by_key: dict[int, dict[str, LegRank]] = {}
    for name, hits in runs.items():
        rank = 0
        for hit in hits:
            legs = legs_by_key.get(hit.key)
            if legs is None:
                legs = legs_by_key[hit.key] = {}
            elif name in legs:
                continue
            rank += 1
            legs[name] = LegRank(rank, hit.score)
    return legs_by_key


def _min_max(name: str, hits: Sequence[Hit]) -> tuple[float, float | None, bool]:
    """(low, span, halved): a score of this run scaled to [0, 1] is (score - low) /
    span, where low and span are the minimum and range of its distinct keys'
    (first occurrences') scores; with `halved`, (score / 2 - low / 2) / span, for a
    range too wide for a float (e.g. -1e308 .. 1e308). span is None when the
    scores are all equal (each scales to 1.0). No clamping is needed: IEEE
    subtraction and division round monotonically, so a score between low and high
    lands between 0.0 and exactly 1.0. Raises on a non-finite score anywhere."""
    first: dict[int, float] = {}
    for hit in hits:
        if not math.isfinite(hit.score):
            raise ValueError(
                f"Run {name!r} has a non-finite score {hit.score!r} for key {hit.key}; "
                "weighted fusion needs finite scores."
            )
        first.setdefault(hit.key, hit.score)
    if not first:
        return 0.0, None, False
    low, high = min(first.values()), max(first.values())
    if high == low:
        return low, None, False
    span = high - low
    if math.isfinite(span):
        return low, span, False
    return low, high / 2 - low / 2, True
