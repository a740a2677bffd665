"""Cap how many passages of one article a result page shows.

Passages are the unit of retrieval, so one long article that mentions the query
everywhere can fill a whole page with its own passages and push every other article
out of sight. Keeping at most a few passages per article leaves room for other
sources while still letting the best article show more than one passage.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["limit_per_article"]


def limit_per_article(
    articles: npt.NDArray[np.generic], *, per_article: int
) -> npt.NDArray[np.bool_]:
    """Which items to keep: each item unless `per_article` earlier items share its
    article. `articles[i]`: item i's article (any sortable values).

    Items should already be ranked best first, so what is kept for an article is
    its best passages. Apply it after fusion and before cutting the page to size, and
    fetch more candidates than the page shows to make up for the dropped ones.
    """
    if per_article < 1:
        raise ValueError(f"per_article must be >= 1, got {per_article!r}.")
    if len(articles) == 0:
        return np.zeros(0, np.bool_)
    # each item's place among its article's items: sort by article keeping the
    # ranked order within one, then count from where each article's run begins
    by_article = np.argsort(articles, kind="stable")
    grouped = articles[by_article]
    starts = np.flatnonzero(np.concatenate([[True], grouped[1:] != grouped[:-1]]))
    run_lengths = np.diff(np.append(starts, len(grouped)))
    place = np.arange(len(grouped)) - np.repeat(starts, run_lengths)
    keep = np.empty(len(articles), np.bool_)
    keep[by_article] = place < per_article
    return keep
