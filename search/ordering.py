"""The order of matches: relevance (the fused order) or by the article's date.

Sorting by date is stable, so articles of the same day keep their fused order;
undated articles come last in both directions.
"""

from __future__ import annotations

import numpy as np

from search.article_facts import ArticleFacts
from search.fused_ranking import FusedRanking
from search.models import Sort

__all__ = ["order_matches"]


def order_matches(ranking: FusedRanking, facts: ArticleFacts, sort: Sort) -> FusedRanking:
    if sort == "relevance":
        return ranking
    days = facts.row_date[ranking.keys].astype(np.int64)
    # lexsort's last key sorts first; the fused position breaks every tie
    order = np.lexsort((np.arange(len(days)), -days if sort == "date_desc" else days, days < 0))
    return ranking.take(order)
