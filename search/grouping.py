"""Cap how many passages of one article a result page shows.

Passages are the unit of retrieval, so one long article that mentions the query
everywhere can fill a whole page with its own passages and push every other article
out of sight. Keeping at most a few passages per article leaves room for other
sources while still letting the best article show more than one passage.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

__all__ = ["limit_per_article"]

_Item = TypeVar("_Item")


def limit_per_article(
    items: Sequence[_Item], *, article_of: Callable[[_Item], Hashable], per_article: int
) -> list[_Item]:
    """Keep `items` in order, dropping each item after its article's first `per_article`.

    `items` should already be ranked best first, so what is kept for an article is
    its best passages. Apply it after fusion and before cutting the page to size, and
    fetch more candidates than the page shows to make up for the dropped ones.
    """
    if per_article < 1:
        raise ValueError(f"per_article must be >= 1, got {per_article!r}.")
    seen: dict[Hashable, int] = {}
    kept: list[_Item] = []
    for item in items:
        article = article_of(item)
        count = seen.get(article, 0)
        if count < per_article:
            seen[article] = count + 1
            kept.append(item)
    return kept
