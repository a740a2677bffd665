"""HTML and JSON renderings of the engine's results, shared by the page and the API.

Highlights arrive as character spans; here, and only here, they become `<mark>`
elements. Every piece of text is HTML-escaped; a match through translation gets
`<mark class="mt">` so the page can tell the two apart.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from markupsafe import Markup, escape

from search.models import ArticleView, Highlight, SearchResponse, SearchResult
from search.plain_data import plain_data

__all__ = ["article_body", "marked_html", "search_body", "snippet_html"]


def marked_html(pieces: list[tuple[str, Highlight | None]]) -> Markup:
    """(text, highlight or None) pieces as escaped HTML with <mark> around matches."""
    html = []
    for text, highlight in pieces:
        if highlight is None:
            html.append(escape(text))
        elif highlight.translated:
            html.append(Markup('<mark class="mt">%s</mark>') % text)
        else:
            html.append(Markup("<mark>%s</mark>") % text)
    return Markup("").join(html)


def snippet_html(result: SearchResult) -> Markup:
    window = result.snippet
    prefix = "…" if window.cut_before else ""
    suffix = "…" if window.cut_after else ""
    return Markup(prefix) + marked_html(result.snippet_pieces()) + Markup(suffix)


def search_body(response: SearchResponse) -> dict[str, Any]:
    """The JSON twin of a search: the response's fields, plus a ready `snippet_html`
    per result (and per closest passage) for clients that want HTML."""
    body: dict[str, Any] = plain_data(response)
    for key, results in (("results", response.results), ("closest", response.closest)):
        for result, data in zip(results, body[key], strict=True):
            data["snippet_html"] = str(snippet_html(result))
    return body


def article_body(article: ArticleView) -> dict[str, Any]:
    return asdict(article)
