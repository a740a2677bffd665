"""The one reader of search parameters, shared by `/api/search`, `/` and `/?format=json`.

Every parameter is declared once in `SEARCH_PARAMETERS` (type, default, bounds,
choices); the parser reads the raw query string with it, and the OpenAPI document
is generated from it, so the API, the page and the schema can never disagree.

Conventions, the same everywhere:
* An empty value is the same as an absent one (`limit=` means the default): an
  HTML form submits its empty fields.
* A parameter given twice takes its last value, except the repeatable ones
  (`lang`, `source`), which also accept comma-separated values.
* A parameter nobody declared is an error naming it and listing the accepted ones,
  so `sort=date` never silently does nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from search.errors import BadQueryError
from search.models import (
    FUSION_METHODS,
    LIMIT_RANGE,
    MAX_QUERY_CHARS,
    MODES,
    OFFSET_RANGE,
    PER_ARTICLE_RANGE,
    RRF_K_RANGE,
    SearchRequest,
)

__all__ = ["SEARCH_PARAMETERS", "Parameter", "openapi_parameters", "parse_search_request"]

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
        "Passage language filter, e.g. en or es; repeatable or comma-separated; all = none.",
        repeatable=True,
    ),
    Parameter("source", "string", "Source filter (exact); repeatable.", repeatable=True),
    Parameter("date_from", "date", "Articles dated on or after this day (YYYY-MM-DD)."),
    Parameter("date_to", "date", "Articles dated on or before this day (YYYY-MM-DD)."),
    Parameter("per_article", "integer", "Passages shown per article.", 1, *PER_ARTICLE_RANGE),
    Parameter("fusion", "choice", "How hybrid mode fuses the legs.", "rrf", choices=FUSION_METHODS),
    Parameter("alpha", "number", "Semantic weight of fusion=weighted.", None, 0.0, 1.0),
    Parameter(
        "rrf_k", "integer", "Reciprocal rank fusion constant (default 20).", None, *RRF_K_RANGE
    ),
    Parameter("translate", "boolean", "Also search the query's translation.", True),
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
            accepted = ", ".join(sorted([*_BY_NAME, *extra]))
            raise BadQueryError(name, f"Unknown parameter {name!r}; accepted: {accepted}.")
        if raw.strip():
            values.setdefault(name, []).append(raw)
    if require_query and "q" not in values:
        raise BadQueryError("q", "q is required, e.g. /api/search?q=your+words")
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
        sources=tuple(read["source"] or ()),
        date_from=read["date_from"],
        date_to=read["date_to"],
        per_article=read["per_article"],
        fusion=read["fusion"],
        alpha=read["alpha"],
        rrf_k=read["rrf_k"],
        translate=read["translate"],
    )


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
            raise BadQueryError(
                name, f"{name}={raw!r} is not one of {', '.join(parameter.choices)}."
            )
        return lowered
    if parameter.kind == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise BadQueryError(name, f"{name}={raw!r} is not true or false.")
    if parameter.kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise BadQueryError(name, f"{name}={raw!r} is not a date; use YYYY-MM-DD.") from None
    if parameter.kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise BadQueryError(name, f"{name}={raw!r} is not a whole number.") from None
    try:
        number = float(text)
    except ValueError:
        raise BadQueryError(name, f"{name}={raw!r} is not a number.") from None
    if not math.isfinite(number):
        raise BadQueryError(name, f"{name}={raw!r} is not a finite number.")
    return number


def openapi_parameters(parameters: Iterable[Parameter] = SEARCH_PARAMETERS) -> list[dict[str, Any]]:
    """OpenAPI 3.1 parameter objects for the declared parameters (q is required)."""
    documented = []
    for parameter in parameters:
        kinds: dict[str, dict[str, Any]] = {
            "string": {"type": "string"},
            "choice": {"type": "string", "enum": list(parameter.choices)},
            "boolean": {"type": "boolean"},
            "date": {"type": "string", "format": "date"},
            "integer": {"type": "integer"},
            "number": {"type": "number"},
        }
        schema = dict(kinds[parameter.kind])
        if parameter.minimum is not None:
            schema["minimum"] = parameter.minimum
        if parameter.maximum is not None:
            schema["maximum"] = parameter.maximum
        if parameter.max_length is not None:
            schema |= {"minLength": 1, "maxLength": parameter.max_length}
        if parameter.default is not None:
            schema["default"] = parameter.default
        if parameter.repeatable:
            schema = {"type": "array", "items": schema}
        documented.append(
            {
                "name": parameter.name,
                "in": "query",
                "required": parameter.name == "q",
                "description": parameter.description,
                "schema": schema,
                **({"style": "form", "explode": True} if parameter.repeatable else {}),
            }
        )
    return documented
