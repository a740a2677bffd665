"""The one reader of search parameters, shared by `/api/search`, `/` and `/?format=json`.

Every parameter is declared once in `SEARCH_PARAMETERS` (type, default, bounds,
choices); the parser reads the raw query string with it, and the OpenAPI document
is generated from it (`search.schemas.openapi_parameters`), so the API, the page
and the schema can never disagree.

Conventions, the same everywhere:
* An empty value is the same as an absent one (`limit=` means the default): an
  HTML form submits its empty fields.
* A parameter given twice takes its last value, except the repeatable ones
  (`lang`, `source`), which also accept comma-separated values.
* A parameter nobody declared is an error naming it and listing the accepted ones,
  so `sort=date` never silently does nothing.

`format` is declared here too (the API and the page share it) but is not part of
the search: `output_format` reads it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from search.errors import bad_parameter
from search.models import (
    FUSION_METHODS,
    LANG_SCOPES,
    LIMIT_RANGE,
    MAX_QUERY_CHARS,
    MODES,
    OFFSET_RANGE,
    PER_ARTICLE_RANGE,
    RRF_K_RANGE,
    SORTS,
    SearchRequest,
)

__all__ = [
    "EXPORT_FORMATS",
    "SEARCH_PARAMETERS",
    "Parameter",
    "output_format",
    "parse_passage_numbers",
    "parse_search_request",
]

# Besides JSON: the page of results as a CSV table or a Markdown list, with citations.
EXPORT_FORMATS = ("csv", "markdown")

Kind = Literal["string", "integer", "number", "boolean", "date", "choice"]


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    kind: Kind
    description: str
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    repeatable: bool = False
    max_length: int | None = None


SEARCH_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "q",
        "string",
        'What to search for: words, "quoted phrases", -excluded words.',
        max_length=MAX_QUERY_CHARS,
    ),
    Parameter("mode", "choice", "Which retrievers run.", default="hybrid", choices=MODES),
    Parameter("limit", "integer", "Results per page.", 10, *LIMIT_RANGE),
    Parameter("offset", "integer", "Results to skip (paging).", 0, *OFFSET_RANGE),
    Parameter(
        "lang",
        "string",
        "Language filter, e.g. en or es; repeatable or comma-separated; all = none. "
        "Applies to the article's language unless lang_scope=passage.",
        repeatable=True,
    ),
    Parameter(
        "lang_scope",
        "choice",
        "What lang filters: the article's language, or each passage's own (a quoted "
        "Spanish tweet in an English article is a Spanish passage).",
        "article",
        choices=LANG_SCOPES,
    ),
    Parameter(
        "source",
        "string",
        "Source filter, case-insensitive (source=reuters finds Reuters); repeatable. "
        "/api/sources lists them.",
        repeatable=True,
    ),
    Parameter("date_from", "date", "Articles dated on or after this day (YYYY-MM-DD)."),
    Parameter("date_to", "date", "Articles dated on or before this day (YYYY-MM-DD)."),
    Parameter(
        "sort",
        "choice",
        "Order of the matches: relevance, or the article's date (newest or oldest "
        "first; undated last).",
        "relevance",
        choices=SORTS,
    ),
    Parameter("per_article", "integer", "Passages shown per article.", 1, *PER_ARTICLE_RANGE),
    Parameter("fusion", "choice", "How hybrid mode fuses the legs.", "rrf", choices=FUSION_METHODS),
    Parameter("alpha", "number", "Semantic weight of fusion=weighted.", None, 0.0, 1.0),
    Parameter(
        "rrf_k", "integer", "Reciprocal rank fusion constant (default 10).", None, *RRF_K_RANGE
    ),
    Parameter(
        "feedback",
        "boolean",
        "hybrid with fusion=rrf: also rank up the passages found that tell what the best "
        "match tells, in another language (cross-lingual pseudo-relevance feedback).",
        True,
    ),
    Parameter("translate", "boolean", "Also search the query's translation.", True),
    Parameter(
        "skip_translation",
        "string",
        "Leave out the query's translation into this language (en or es); repeatable.",
        repeatable=True,
    ),
    Parameter(
        "format",
        "choice",
        "json (the default), or the page of results with citations as csv or markdown.",
        choices=("json", *EXPORT_FORMATS),
    ),
)
_BY_NAME = {parameter.name: parameter for parameter in SEARCH_PARAMETERS}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_search_request(
    items: Iterable[tuple[str, str]],
    *,
    require_query: bool = True,
    also_accepted: Iterable[str] = (),
) -> SearchRequest:
    """Raw query-string pairs -> a `SearchRequest`, or `BadQueryError` naming the fix.

    `also_accepted`: names the caller reads itself (the page's `format`); they are
    allowed and ignored here. Ranges and cross-parameter rules are checked by
    `SearchRequest.validate`, which the engine runs with the index's languages.
    """
    extra = frozenset(also_accepted)
    values: dict[str, list[str]] = {}
    for name, raw in items:
        if name in extra:
            continue
        if name not in _BY_NAME:
            raise bad_parameter(
                name,
                "Unknown parameter {name!r}; accepted: {accepted}.",
                name=name,
                accepted=", ".join(sorted([*_BY_NAME, *extra])),
            )
        if raw.strip():
            values.setdefault(name, []).append(raw)
    if require_query and "q" not in values:
        raise bad_parameter("q", "q is required, e.g. /api/search?q=your+words")
    read: dict[str, Any] = {}
    for name, parameter in _BY_NAME.items():
        raw_values = values.get(name)
        if raw_values is None:
            read[name] = parameter.default
        elif parameter.repeatable:
            read[name] = _split_values(raw_values)
        else:
            read[name] = _convert(parameter, raw_values[-1])
    langs = tuple(lang.lower() for lang in read["lang"] or () if lang.lower() != "all")
    return SearchRequest(
        query=values.get("q", [""])[-1],
        mode=read["mode"],
        limit=read["limit"],
        offset=read["offset"],
        langs=langs,
        lang_scope=read["lang_scope"],
        sources=tuple(read["source"] or ()),
        date_from=read["date_from"],
        date_to=read["date_to"],
        sort=read["sort"],
        per_article=read["per_article"],
        fusion=read["fusion"],
        alpha=read["alpha"],
        rrf_k=read["rrf_k"],
        feedback=read["feedback"],
        translate=read["translate"],
        skip_translations=tuple(lang.lower() for lang in read["skip_translation"] or ()),
    )


def output_format(items: Iterable[tuple[str, str]]) -> str | None:
    """The `format` asked for (its last non-empty value, validated), or None."""
    raw = [value for name, value in items if name == "format" and value.strip()]
    if not raw:
        return None
    return str(_convert(_BY_NAME["format"], raw[-1]))


def parse_passage_numbers(values: Iterable[str]) -> tuple[int, ...] | Literal["all"]:
    """The article's `mt` parameter: passage numbers from 1 (repeatable or
    comma-separated) or `all`; anything else is a `BadQueryError`."""
    numbers: list[int] = []
    for value in _split_values(list(values)):
        if value.lower() == "all":
            return "all"
        if not value.isdigit() or int(value) < 1:
            raise bad_parameter(
                "mt", "mt={value!r} is not a passage number (1, 2, ...) or all.", value=value
            )
        numbers.append(int(value))
    return tuple(numbers)


def _split_values(raw_values: list[str]) -> tuple[str, ...]:
    parts = (part.strip() for raw in raw_values for part in raw.split(","))
    return tuple(dict.fromkeys(part for part in parts if part))


def _convert(parameter: Parameter, raw: str) -> object:
    name, text = parameter.name, raw.strip()
    if parameter.kind == "string":
        return raw
    if parameter.kind == "choice":
        lowered = text.lower()
        if lowered not in parameter.choices:
            raise bad_parameter(
                name,
                "{name}={value!r} is not one of {choices}.",
                name=name,
                value=raw,
                choices=", ".join(parameter.choices),
            )
        return lowered
    if parameter.kind == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise bad_parameter(name, "{name}={value!r} is not true or false.", name=name, value=raw)
    if parameter.kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise bad_parameter(
                name, "{name}={value!r} is not a date; use YYYY-MM-DD.", name=name, value=raw
            ) from None
    if parameter.kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise bad_parameter(
                name, "{name}={value!r} is not a whole number.", name=name, value=raw
            ) from None
    try:
        number = float(text)
    except ValueError:
        raise bad_parameter(
            name, "{name}={value!r} is not a number.", name=name, value=raw
        ) from None
    if not math.isfinite(number):
        raise bad_parameter(name, "{name}={value!r} is not a finite number.", name=name, value=raw)
    return number
