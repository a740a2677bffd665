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

from collections.abc import Collection

import numpy as np

from search.fused_ranking import FusedRanking

__all__ = ["CLOSEST_SHOWN", "MEANING_FLOOR", "partition"]

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
    ranking: FusedRanking, *, floor: float | None, keyword_rows: Collection[int] = ()
) -> tuple[FusedRanking, FusedRanking]:
    """(matches, the rest), each in the order given. `floor` None: everything matches.
    `keyword_rows`: passages known to contain a query word although the lexical leg
    did not run (semantic mode)."""
    if floor is None:
        return ranking, FusedRanking.empty()
    match = np.zeros(len(ranking), np.bool_)
    lexical = ranking.leg("lexical")
    if lexical is not None:
        match |= lexical[0] > 0
    if keyword_rows:
        match |= np.isin(ranking.keys, np.fromiter(keyword_rows, np.int64, len(keyword_rows)))
    semantic = ranking.leg("semantic")
    if semantic is not None:
        ranks, scores = semantic
        match |= (ranks > 0) & (scores >= floor)
    return ranking.take(match), ranking.take(~match)
