"""Which fused passages are *matches*, and which are only the closest there are.

Fusion ranks every candidate a leg returned, and the semantic leg always returns
its k nearest passages, however far they are: "volcanic eruption Iceland" over a
corpus about Mexican cartels used to give "Results 1–5 of 5". A passage is a match
when a word of the query (or of its translation) occurs in it (the lexical leg
returned it), or when its cosine to the query is at least `MEANING_FLOOR`. The rest
are kept apart, in the fused order, as the closest passages to offer when nothing
matches. Partitioning never reorders: matches keep the fused order.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from search.fusion import FusedHit

__all__ = ["CLOSEST_SHOWN", "MEANING_FLOOR", "is_match", "partition"]

# When nothing matches, this many of the nearest passages (at most a page) are
# offered apart: enough to judge whether the archive holds anything near.
CLOSEST_SHOWN = 5

# The cosine floor of a "meaning" match, for the default model (all-MiniLM-L6-v2,
# Spanish embedded through its English translation), calibrated on XQuAD
# bilingual (2380 questions, 480 paragraphs) by `python -m
# search.evaluation.calibrate_floor` (README, "Relevance floor"). Rule: the 5th
# percentile of each question's best relevant cosine, rounded down to 0.01, so 95%
# of questions keep their best relevant passage as a match even with no word in
# common. At 0.33: 89% of all relevant passages (both languages) clear it, 99% of
# non-relevant (question, paragraph) pairs fall below it; the best paragraph of
# the same article (a near miss) falls below it for 31% of questions, the best
# paragraph of another article (off-topic) for 40%. Another model needs its own.
MEANING_FLOOR = 0.33


def partition(
    hits: Sequence[FusedHit], *, floor: float | None, keyword_rows: Collection[int] = ()
) -> tuple[list[FusedHit], list[FusedHit]]:
    """(matches, the rest), each in the order given. `floor` None: everything matches.
    `keyword_rows`: passages known to contain a query word although the lexical leg
    did not run (semantic mode)."""
    if floor is None:
        return list(hits), []
    matches: list[FusedHit] = []
    rest: list[FusedHit] = []
    for hit in hits:
        (matches if is_match(hit, floor, keyword_rows) else rest).append(hit)
    return matches, rest


def is_match(hit: FusedHit, floor: float, keyword_rows: Collection[int] = ()) -> bool:
    if "lexical" in hit.legs or hit.key in keyword_rows:
        return True
    semantic = hit.legs.get("semantic")
    return semantic is not None and semantic.score >= floor
