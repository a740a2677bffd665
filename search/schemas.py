"""What the JSON API answers, for the OpenAPI document: the engine's dataclasses plus
what the web layer adds (`snippet_html`), the one error body, and the search
parameters as OpenAPI parameter objects (from `search.params`).

Documentation only: responses are built from the dataclasses by `search.rendering`
and not re-validated per request; `tests/test_fuzz.py` checks real responses
against these schemas.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from search.models import (
    ArticleView,
    Health,
    SearchResponse,
    SearchResult,
    SourceList,
    WriteResult,
)
from search.params import SEARCH_PARAMETERS, Parameter

__all__ = [
    "ARTICLE_BODY_SCHEMA",
    "ARTICLE_RESPONSES",
    "DELETE_RESPONSES",
    "ERROR_RESPONSES",
    "HEALTH_RESPONSES",
    "PUT_RESPONSES",
    "SEARCH_RESPONSES",
    "SOURCES_RESPONSES",
    "ErrorBody",
    "ErrorDetail",
    "SearchBody",
    "SearchResultBody",
    "openapi_parameters",
]


@dataclass(frozen=True)
class SearchResultBody(SearchResult):
    snippet_html: str  # the snippet window with <mark> around matches, escaped


@dataclass(frozen=True)
class SearchBody(SearchResponse):
    results: list[SearchResultBody]  # type: ignore[assignment]
    closest: list[SearchResultBody] = field(default_factory=list)  # type: ignore[assignment]


@dataclass(frozen=True)
class ErrorDetail:
    status: int
    code: str  # bad_parameter, article_not_found, not_found, uri_too_long, http_error, ...
    parameter: str | None  # the query parameter at fault, when there is one
    message: str  # what went wrong and how to fix it


@dataclass(frozen=True)
class ErrorBody:
    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("A parameter is invalid or unknown; `parameter` names it."),
    405: _error("Method not allowed; the `Allow` header lists the allowed ones."),
    414: _error("The URL is longer than the service reads."),
    500: _error("An internal error (or a damaged index); it has been logged."),
    503: _error("Overloaded: too many requests waiting. `Retry-After` says when to retry."),
}
_TEXT: dict[str, Any] = {"schema": {"type": "string"}}
SEARCH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "model": SearchBody,
        "description": "The page of results (format=csv or markdown: the same page as a "
        "table or a list, with citations, as an attachment).",
        "content": {"text/csv": _TEXT, "text/markdown": _TEXT},
    },
    **ERROR_RESPONSES,
}
SOURCES_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": SourceList, "description": "Every source, with its number of articles."},
    **ERROR_RESPONSES,
}
ARTICLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ArticleView, "description": "The article and its passages."},
    404: _error("No article with that id in the live index."),
    **ERROR_RESPONSES,
}
HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Health, "description": "The served generation and anything degraded."},
    **ERROR_RESPONSES,
}


# The write API's body: the fields of a JSONL line (`indexer.articles`), the id from
# the URL. Documentation only: `search.writer` reads the body with the JSONL rules.
_STRING: dict[str, Any] = {"type": "string"}
ARTICLE_BODY_SCHEMA: dict[str, Any] = {
    "application/json": {
        "schema": {
            "type": "object",
            "required": ["text"],
            "additionalProperties": False,
            "properties": {
                "text": {**_STRING, "description": "What is indexed; not only spaces."},
                "title": {**_STRING, "description": "Default: the text's first line."},
                "date": {**_STRING, "description": "ISO 8601, years 1678..2261."},
                "source": _STRING,
                "url": _STRING,
                "lang": {**_STRING, "description": "A hint for detection, e.g. en or es."},
                "id": {
                    "type": ["string", "integer"],
                    "description": "Optional: the URL names the article; if given, the same.",
                },
            },
        },
        "example": {
            "title": "Hurricane reaches the coast",
            "text": "The hurricane made landfall near Acapulco on Tuesday night...",
            "date": "2024-10-22",
            "source": "Daily Wire Service",
            "url": "https://example.org/hurricane",
        },
    }
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The body is not JSON, or its id is not the URL's; `parameter` names it."),
    401: _error("No `Authorization: Bearer` token (`WWW-Authenticate: Bearer`)."),
    403: _error("The token is wrong (or, with none configured, the host is not loopback)."),
    405: ERROR_RESPONSES[405],
    500: ERROR_RESPONSES[500],
    503: _error(
        "Another build or change holds the index (or the service is overloaded); the "
        "change was not made. Retry after `Retry-After` seconds."
    ),
    507: _error("The disk is full; the change was not made."),
}
PUT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": WriteResult, "description": "Replaced; searchable now."},
    201: {"model": WriteResult, "description": "Added; searchable now."},
    413: _error("The body or the article's text is over the size limit."),
    422: _error("The body is no article: no text, a field of the wrong type, a bad date..."),
    **_WRITE_ERRORS,
}
DELETE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": WriteResult, "description": "Removed; gone from search now."},
    404: _error("No article with that id in the live index."),
    **_WRITE_ERRORS,
}


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
