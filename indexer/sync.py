"""What makes the live index match its sources: the change a `sync` applies.

Every named source is read (folders, JSONL files), and each article compared with
the stored one of the same id by content hash and origin file: new and changed
articles are inserted or replaced, unchanged ones cost nothing. Stored articles
that came from a file under one of the named sources and are no longer there are
removed; articles from other sources are never touched. An article that could
not be read this time (a broken line, an unreadable file) is not removed: its file
is reported, and its last good version stays searchable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from indexer.articles import SizeLimit, read_all_articles
from indexer.preparation import content_hash, origin_file
from indexer.update import ArticleChange

__all__ = ["plan_sync"]


def plan_sync(
    sources: Sequence[Path],
    stored: Mapping[str, tuple[str | None, str | None]],
    *,
    size_limit: SizeLimit,
) -> ArticleChange:
    """The change from what is `stored` (article id -> (origin file, content hash),
    `MetadataStore.article_origins`) to what `sources` hold now."""
    articles, problems = read_all_articles(sources, size_limit=size_limit)
    upserts = [
        article
        for article in articles
        if stored.get(article.id) != (origin_file(article.origin), content_hash(article))
    ]
    seen = {article.id for article in articles}
    roots = [os.path.abspath(source) for source in sources]
    unreadable = {origin_file(problem.location) for problem in problems if problem.skipped}
    removals = [
        article_id
        for article_id, (origin, _) in stored.items()
        if article_id not in seen
        and origin is not None
        and origin not in unreadable
        and any(origin == root or origin.startswith(root + os.sep) for root in roots)
    ]
    return ArticleChange(upserts=upserts, removals=removals, kind="sync", problems=problems)
