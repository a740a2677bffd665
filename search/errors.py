"""Domain errors of the query side. The API and the CLI map them; nothing else does.

Index problems reuse the indexer's `IndexNotFoundError` / `IndexCorruptError`.
"""

from __future__ import annotations

from indexer.errors import IndexCorruptError, IndexNotFoundError, IndexUnavailableError

__all__ = [
    "ArticleNotFoundError",
    "BadQueryError",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IndexUnavailableError",
    "SearchError",
]


class SearchError(Exception):
    """Base class: something the caller can fix, with a message saying how."""


class BadQueryError(SearchError):
    """A request parameter is invalid; `parameter` names it (e.g. "q", "limit")."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


class ArticleNotFoundError(SearchError):
    def __init__(self, article_id: str) -> None:
        super().__init__(
            f"No article with id {article_id!r} in the live index. Ids come from search "
            "results' article_id."
        )
        self.article_id = article_id
