"""Reading articles from folders of .txt/.md/.html files and from JSONL files.

Bad input never stops a build: each problem becomes an `InputProblem` naming the
file (and line, for JSONL) and the article is skipped; everything else is read.
A bad optional field (a front matter `date` that is not a date, a JSONL `title`
that is not a string) is a warning instead: the field is ignored, the article kept.
What a file holds besides its text (front matter, a title line, a page's markup) is
taken apart in `indexer.text_articles` and `indexer.html_articles`.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ParamSpec

from indexer.article_fields import ParsedArticle, has_lone_surrogate, read_fields
from indexer.folders import FolderFile, walk_folder
from indexer.html_articles import HTML_SUFFIXES, read_html_article
from indexer.problems import InputProblem
from indexer.settings import DEFAULT_MAX_ARTICLE_MB
from indexer.text_articles import read_text_article
from indexer.titles import derive_title

__all__ = [
    "FILE_SUFFIXES",
    "TEXT_SUFFIXES",
    "Article",
    "InputProblem",
    "SizeLimit",
    "article_from_record",
    "describe_error",
    "read_all_articles",
    "read_articles",
]

TEXT_SUFFIXES = (".txt", ".md")
FILE_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES  # what a folder's articles are named
_P = ParamSpec("_P")


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    title: str
    text: str
    origin: str  # "path" or "path:line": where it came from, for messages
    lang_hint: str | None = None
    date: str | None = None  # ISO 8601 date (YYYY-MM-DD)
    source: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SizeLimit:
    """The largest article, in MB (10^6 bytes of UTF-8), and what becomes of a larger
    one: "truncate" keeps its first `max_mb` (cut at a space), "skip" drops it. Either
    way it is reported, and its neighbours are read as usual."""

    max_mb: float = DEFAULT_MAX_ARTICLE_MB
    oversize: str = "truncate"  # truncate | skip

    def apply(self, article: Article) -> tuple[Article | None, InputProblem | None]:
        limit = int(self.max_mb * 1e6)
        if len(article.text) * 4 <= limit:  # UTF-8 takes at most 4 bytes a character
            return article, None
        encoded = article.text.encode("utf-8")
        if len(encoded) <= limit:
            return article, None
        size = f"{len(encoded) / 1e6:.1f} MB, over the {self.max_mb:g} MB limit (--max-article-mb)"
        if self.oversize == "skip":
            return None, InputProblem(article.origin, f"article is {size}")
        text = encoded[:limit].decode("utf-8", errors="ignore")
        space = max(text.rfind(" "), text.rfind("\n"))
        if space > len(text) - 1000:  # end at a word boundary if there is one near
            text = text[: space + 1]
        warning = InputProblem(
            article.origin, f"article is {size}; only its first part was indexed", skipped=False
        )
        return replace(article, text=text), warning


def read_articles(
    sources: Iterable[Path], *, size_limit: SizeLimit | None = None
) -> Iterator[Article | InputProblem]:
    """Yield every article of every source, and a problem for every bad input.

    Ids must be unique across all sources: a later duplicate is skipped.
    """
    size_limit = size_limit or SizeLimit()
    first_seen: dict[str, str] = {}
    for source in sources:
        for item in _read_source(source):
            if isinstance(item, Article):
                if item.id in first_seen:
                    yield InputProblem(
                        item.origin,
                        f"duplicate article id {item.id!r} (first seen at {first_seen[item.id]})",
                    )
                    continue
                first_seen[item.id] = item.origin
                article, problem = size_limit.apply(item)
                if problem is not None:
                    yield problem
                if article is not None:
                    yield article
                continue
            yield item


def read_all_articles(
    sources: Iterable[Path], *, size_limit: SizeLimit | None = None
) -> tuple[list[Article], list[InputProblem]]:
    """`read_articles`, gathered: the articles, and the problems apart."""
    articles: list[Article] = []
    problems: list[InputProblem] = []
    for item in read_articles(sources, size_limit=size_limit):
        if isinstance(item, Article):
            articles.append(item)
        else:
            problems.append(item)
    return articles, problems


def _read_source(source: Path) -> Iterator[Article | InputProblem]:
    if not source.exists():
        yield InputProblem(str(source), "source path does not exist")
    elif source.is_dir():
        yield from _read_folder(source)
    elif source.suffix.lower() == ".jsonl":
        yield from _read_jsonl(source)
    elif source.suffix.lower() in FILE_SUFFIXES:
        # A file the user named is read even through a link; it must still be a file.
        named = FolderFile(source, str(source), source.name)
        yield from _guarded(named.location, _read_file, named, follow_links=True)
    else:
        yield InputProblem(
            str(source), "not a folder, .jsonl, .txt, .md, .html or .htm file; pass one of those"
        )


def _read_folder(folder: Path) -> Iterator[Article | InputProblem]:
    for found in walk_folder(folder, FILE_SUFFIXES):
        if isinstance(found, InputProblem):
            yield found
        else:
            yield from _guarded(found.location, _read_file, found, follow_links=False)


def _read_regular_file(path: Path, *, follow_links: bool) -> bytes:
    """The bytes of `path`, which must be a regular file: never blocks on a FIFO, and
    without `follow_links` never reads through a link swapped in after the walk."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    descriptor = os.open(path, flags)
    with open(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return handle.read()


def _decode(raw: bytes, location: str) -> str | InputProblem:
    if b"\x00" in raw:
        return InputProblem(location, "binary file (contains NUL bytes)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return InputProblem(
            f"{location}:{line}", f"invalid UTF-8 at byte {error.start}; re-save it as UTF-8"
        )


def _read_file(found: FolderFile, *, follow_links: bool) -> list[Article | InputProblem]:
    location = found.location
    try:
        raw = _read_regular_file(found.path, follow_links=follow_links)
    except OSError as error:
        return [InputProblem(location, f"unreadable: {error.strerror or error}")]
    if location.lower().endswith(HTML_SUFFIXES):
        parsed, problems = read_html_article(raw, location=location)
    else:
        content = _decode(raw, location)
        if isinstance(content, InputProblem):
            return [content]
        markdown = location.lower().endswith(".md")
        parsed, problems = read_text_article(content, markdown=markdown, location=location)
    if parsed is None:
        return [*problems]
    return [*problems, _article(found.article_id, parsed, origin=location)]


def _article(article_id: str, parsed: ParsedArticle, *, origin: str) -> Article:
    fields = parsed.fields
    return Article(
        id=article_id,
        title=parsed.title,
        text=parsed.text,
        origin=origin,
        lang_hint=fields.lang,
        date=fields.date,
        source=fields.source,
        url=fields.url,
    )


def _guarded(
    location: str,
    read: Callable[_P, list[Article | InputProblem]],
    *args: _P.args,
    **kwargs: _P.kwargs,
) -> list[Article | InputProblem]:
    """What `read` finds, or one problem if it raises: one bad input never stops the rest."""
    try:
        return read(*args, **kwargs)
    except Exception as error:
        return [InputProblem(location, f"could not be read: {describe_error(error)}")]


def describe_error(error: BaseException) -> str:
    """`Type: message`, cut short: a message may quote a whole article."""
    message = f"{type(error).__name__}: {error}"
    return message if len(message) <= 200 else message[:199] + "…"


def _read_jsonl(path: Path) -> Iterator[Article | InputProblem]:
    try:
        handle = path.open("rb")
    except OSError as error:
        yield InputProblem(str(path), f"unreadable: {error.strerror or error}")
        return
    with handle:
        for number, raw in enumerate(handle, start=1):
            location = f"{path}:{number}"
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                yield InputProblem(location, f"invalid UTF-8 at byte {error.start} of the line")
                continue
            yield from _guarded(location, _article_from_json_line, line, location)


def _article_from_json_line(line: str, location: str) -> list[Article | InputProblem]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return [InputProblem(location, f"malformed JSON: {error.msg} at column {error.colno}")]
    except RecursionError:
        return [InputProblem(location, "JSON nested too deeply to read")]
    return article_from_record(record, location)


def article_from_record(record: object, location: str) -> list[Article | InputProblem]:
    """A decoded JSON object -> the article and a warning per ignored field, or one
    problem (skipped) saying why it is no article. The one set of rules for a JSON
    article, wherever it comes from: a JSONL line, a body sent to the write API.

    `location` names where the object was read, for the problems and the article's
    origin."""
    if not isinstance(record, dict):
        return [InputProblem(location, "a line must be a JSON object with 'id' and 'text'")]
    broken = [key for key, value in record.items() if has_lone_surrogate(value)]
    if broken:  # half of a UTF-16 pair: not text; no encoder, tokenizer or index takes it
        named = ", ".join(f"'{key}'" for key in broken)
        return [InputProblem(location, f"lone UTF-16 surrogate escape(s) in {named}")]
    raw_id = record.get("id", record.get("_id"))
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or str(raw_id).strip() == "":
        return [InputProblem(location, "missing or invalid 'id' (a non-empty string or integer)")]
    text = record.get("text")
    if not isinstance(text, str):
        return [InputProblem(location, "missing or invalid 'text' (a string)")]
    if "\x00" in text:
        text = text.replace("\x00", " ")
    if not text.strip():
        return [InputProblem(location, "empty article")]
    fields, warnings = read_fields(record, location_of=lambda _key: location)
    parsed = ParsedArticle(fields.title or derive_title(text, markdown=False), text, fields)
    return [*warnings, _article(str(raw_id).strip(), parsed, origin=location)]
