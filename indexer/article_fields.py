"""The optional fields of an article (title, lang, date, source, url), read one way
wherever they come from: a JSONL line, a front matter block, an HTML page's markup.

A field of the wrong type or a date that cannot be read is never fatal: it becomes
a warning (`InputProblem(..., skipped=False)`) at the line that holds it, the field
is ignored and the article is kept. Keys other than these five are not ours to
judge and are passed over silently (front matter says when none of the five is there).

`ParsedArticle` is what a file's reader hands back: title, text and these fields,
before `indexer.articles` gives it an id and an origin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from indexer.problems import InputProblem
from indexer.titles import in_index_range

__all__ = [
    "FIELD_NAMES",
    "ArticleFields",
    "ParsedArticle",
    "has_lone_surrogate",
    "parse_iso_date",
    "read_fields",
]

FIELD_NAMES = ("title", "date", "source", "url", "lang")
_TEXT_FIELDS = ("title", "lang", "source", "url")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class ArticleFields:
    """What an article says about itself; None where it says nothing usable."""

    title: str | None = None
    lang: str | None = None  # a hint for language detection, lower case ("es")
    date: str | None = None  # ISO 8601 (YYYY-MM-DD), within what the index stores
    source: str | None = None
    url: str | None = None

    def with_defaults(self, defaults: ArticleFields) -> ArticleFields:
        """Each field from `self`, or from `defaults` where `self` has none: what a
        person wrote (front matter) wins over what was guessed (an HTML page's markup)."""
        return ArticleFields(
            title=self.title or defaults.title,
            lang=self.lang or defaults.lang,
            date=self.date or defaults.date,
            source=self.source or defaults.source,
            url=self.url or defaults.url,
        )


@dataclass(frozen=True, slots=True)
class ParsedArticle:
    """An article as a file gives it, before it gets its id and origin."""

    title: str
    text: str  # what is indexed: no front matter, no title line
    fields: ArticleFields


def read_fields(
    record: Mapping[str, object], *, location_of: Callable[[str], str]
) -> tuple[ArticleFields, list[InputProblem]]:
    """The five fields of `record`, and a warning for each one that is unusable.

    `location_of(key)` says where the key is written ("path:line"), for the warning.
    """
    problems: list[InputProblem] = []
    text: dict[str, str | None] = {}
    for field in _TEXT_FIELDS:
        value = record.get(field)
        if value is not None and not isinstance(value, str):
            kind = type(value).__name__
            problems.append(_warning(location_of(field), f"'{field}' must be a string, not {kind}"))
            value = None
        elif has_lone_surrogate(value):  # YAML's "\ud800" escape makes one
            problems.append(_warning(location_of(field), f"lone UTF-16 surrogate in '{field}'"))
            value = None
        text[field] = value.strip() or None if isinstance(value, str) else None
    iso_date = None
    raw_date = record.get("date")
    if raw_date is not None:
        iso_date = parse_iso_date(raw_date)
        if iso_date is None:
            shown = repr(raw_date) if isinstance(raw_date, str | int | float) else "a value"
            if len(shown) > 60:
                shown = shown[:59] + "…"
            problems.append(
                _warning(
                    location_of("date"),
                    f"'date' {shown} is not an ISO 8601 date (YYYY-MM-DD...) in 1678..2261",
                )
            )
    lang = text["lang"]
    fields = ArticleFields(
        title=text["title"],
        lang=lang.lower() if lang else None,
        date=iso_date,
        source=text["source"],
        url=text["url"],
    )
    return fields, problems


def has_lone_surrogate(value: object) -> bool:
    """Half of a UTF-16 pair is not text: no encoder, tokenizer or index takes it."""
    return isinstance(value, str) and _SURROGATE.search(value) is not None


def parse_iso_date(value: object) -> str | None:
    """ISO 8601 text (or a date) -> YYYY-MM-DD, or None if it is not one or lies
    outside what the index stores (`in_index_range`)."""
    if isinstance(value, datetime):
        parsed = value.date()
    elif isinstance(value, date):
        parsed = value
    elif isinstance(value, str):
        candidate = value.strip()
        if candidate.endswith("Z"):
            candidate = candidate[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(candidate).date()
        except ValueError:
            try:
                parsed = date.fromisoformat(candidate)
            except ValueError:
                return None
    else:
        return None
    return parsed.isoformat() if in_index_range(parsed) else None


def _warning(location: str, reason: str) -> InputProblem:
    return InputProblem(location, f"{reason}; ignored", skipped=False)
