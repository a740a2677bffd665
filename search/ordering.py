"""The order of matches: relevance (the fused order) or by the article's date.

Sorting by date is stable, so articles of the same day keep their fused order;
undated articles come last in both directions.
"""

from __future__ import annotations

from collections.abc import Sequence

from search.article_facts import ArticleFacts
from search.fusion import FusedHit
from search.models import Sort

__all__ = ["order_matches"]


def order_matches(hits: Sequence[FusedHit], facts: ArticleFacts, sort: Sort) -> list[FusedHit]:
    if sort == "relevance":
        return list(hits)
    newest_first = sort == "date_desc"

    def key(hit: FusedHit) -> tuple[bool, int]:
        day = int(facts.row_date[hit.key])
        return (day < 0, -day if newest_first else day)

    return sorted(hits, key=key)
