"""Domain errors of the query side. The API and the CLI map them; nothing else does.

Index problems reuse the indexer's `IndexNotFoundError` / `IndexCorruptError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from indexer.errors import IndexCorruptError, IndexNotFoundError, IndexUnavailableError

__all__ = [
    "ArticleNotFoundError",
    "ArticleTooLargeError",
    "BadArticleError",
    "BadQueryError",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IndexUnavailableError",
    "SearchError",
    "bad_parameter",
    "tantivy_panics_as_corruption",
]


class SearchError(Exception):
    """Base class: something the caller can fix, with a message saying how."""


class BadQueryError(SearchError):
    """A request parameter is invalid; `parameter` names it (e.g. "q", "limit").

    `template` and `values` are the message before formatting (`str.format`
    fields), so an interface can show it in another language: the page looks the
    template up in its message catalogue and formats the translation with the same
    values. The API answers `message`, in English.
    """

    def __init__(
        self,
        parameter: str,
        message: str,
        *,
        template: str | None = None,
        values: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.template = template
        self.values: Mapping[str, object] = values or {}


def bad_parameter(parameter: str, template: str, /, **values: object) -> BadQueryError:
    """A `BadQueryError` whose message is `template.format(**values)`, keeping both."""
    return BadQueryError(parameter, template.format(**values), template=template, values=values)


class ArticleNotFoundError(SearchError):
    def __init__(self, article_id: str) -> None:
        super().__init__(
            f"No article with id {article_id!r} in the live index. Ids come from search "
            "results' article_id."
        )
        self.article_id = article_id


class BadArticleError(SearchError):
    """An article sent to be written breaks the rules of a JSON article (those of a
    JSONL line, `indexer.articles.article_from_record`); `field` names the field at
    fault when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ArticleTooLargeError(SearchError):
    """An article sent to be written is over the size limit; a write is refused, not
    truncated as a build would (the caller can still split it)."""


@contextmanager
def tantivy_panics_as_corruption(where: str) -> Iterator[None]:
    """Turn a panic inside tantivy's Rust code into `IndexCorruptError`.

    pyo3 raises a panic as `pyo3_runtime.PanicException`, a `BaseException`: an
    `except Exception` lets it through, killing the thread (the reload watcher) or
    the request with a plain-text 500. Corrupt segment files whose footers are
    intact cause it, at load or only for the words whose postings are damaged.
    """
    try:
        yield
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except ValueError as error:  # tantivy's I/O errors, e.g. a damaged doc store
        raise IndexCorruptError(
            f"The index in {where} could not be read ({error}). Rebuild it with: "
            "python -m indexer build"
        ) from error
    except Exception:
        raise
    except BaseException as error:
        if type(error).__name__ != "PanicException":
            raise
        message = (str(error).strip().splitlines() or ["no message"])[0]
        raise IndexCorruptError(
            f"The index in {where} is damaged: tantivy panicked ({message}). Rebuild it "
            "with: python -m indexer build"
        ) from error
