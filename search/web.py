"""HTML pages: the search page at `/` and the article page, from the same data as the API.

One view per page builds its data from the engine's dataclasses; `?format=json`
returns that data as JSON (the same body as /api/search and /api/articles/...),
otherwise a Jinja2 template renders it with autoescape on (datasette's pattern).
Parameters are read by `search.params`, exactly as /api/search reads them. The page
works without JavaScript: /static/app.js adds keyboard shortcuts, re-runs the
search when the mode or language changes, and scrolls to the opened passage.

Escaping: every title, text and query goes through autoescape; highlights become
<mark> in `search.rendering`, which escapes every piece of text around them. HTML
responses also carry a strict Content-Security-Policy (no inline script, nothing
from other origins).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.datastructures import QueryParams

from search.engine import SearchEngine
from search.errors import ArticleNotFoundError, BadQueryError
from search.models import (
    ArticleView,
    SearchRequest,
    SearchResponse,
    SearchResult,
    TextWindow,
    split_by_highlights,
)
from search.params import parse_search_request
from search.rendering import article_body, marked_html, search_body, snippet_html

__all__ = ["CONTENT_SECURITY_POLICY", "asset_urls", "register_pages"]

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HTML_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_MODES = (("hybrid", "Hybrid"), ("lexical", "Keyword"), ("semantic", "Meaning"))
_LANGUAGES = (("all", "All"), ("en", "English"), ("es", "Spanish"))
_LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
# Query-string keys the form carries as visible controls; the rest ride along hidden.
_FORM_KEYS = frozenset({"q", "mode", "lang", "offset", "format"})
# Read by the page itself, not by the search parser.
_PAGE_KEYS = ("format",)


@dataclass(frozen=True, slots=True)
class _ResultView:
    result: SearchResult
    href: str
    snippet: Markup
    language_name: str
    why: str  # "keyword #2 · meaning #5"
    scores: str  # the raw numbers, for a tooltip


def register_pages(app: FastAPI) -> None:
    """Adds `/`, `/articles/{id}` and `/static/` to `app` (engine on `app.state`)."""
    environment = Environment(
        loader=FileSystemLoader(_HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["asset"] = asset_urls(_HERE / "static")
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")

    def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = environment.get_template(template).render(**context)
        return HTMLResponse(html, status_code=status, headers=_HTML_HEADERS)

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False, response_model=None)
    def search_page(request: Request) -> Response:
        engine: SearchEngine = request.app.state.engine
        params = request.query_params
        if params.get("format") == "json":  # errors take the API's JSON handlers
            return JSONResponse(search_body(engine.search(_search_request(params))))
        page = _SearchPage(params, engine)
        try:
            page.run()
        except BadQueryError as error:
            return render("search.html", 400, **page.context(error=error.message))
        except Exception:  # never a traceback on the page
            log.exception("search page failed for %s", request.url)
            return render("search.html", 500, **page.context(error=_INTERNAL_ERROR))
        return render("search.html", **page.context(error=None))

    @app.api_route(
        "/articles/{article_id:path}",
        methods=["GET", "HEAD"],
        include_in_schema=False,
        response_model=None,
    )
    def article_page(request: Request, article_id: str) -> Response:
        engine: SearchEngine = request.app.state.engine
        params = request.query_params
        query = params.get("q", "")
        if params.get("format") == "json":
            return JSONResponse(article_body(engine.article(article_id, query=query)))
        context: dict[str, Any] = {
            "query": params.get("q", ""),
            "translation_off": _translation_off(engine),
            "article": None,
            "json_url": None,
        }
        try:
            article = engine.article(article_id, query=query)
        except ArticleNotFoundError as error:
            return render("article.html", 404, **context, error=str(error))
        except Exception:  # never a traceback on the page
            log.exception("article page failed for %s", request.url)
            return render("article.html", 500, **context, error=_INTERNAL_ERROR)
        context |= _article_context(article, params.get("passage", ""))
        return render("article.html", **context, error=None)


_INTERNAL_ERROR = "Something went wrong on our side; it has been logged. Try again."


class _SearchPage:
    """One search page view: parse, search, and the template's context."""

    def __init__(self, params: QueryParams, engine: SearchEngine) -> None:
        self.params = params
        self.engine = engine
        self.response: SearchResponse | None = None
        langs = [v for v in params.getlist("lang") if v.strip()]
        self.lang = langs[0].strip().lower() if len(langs) == 1 else "all"
        self.mode = (params.get("mode") or "hybrid").strip().lower()

    def run(self) -> None:
        request = _search_request(self.params, require_query=False)
        if request.query.strip():
            self.response = self.engine.search(request)
        else:  # an invitation, but a bad limit or lang still gets its message
            request.validate(known_langs=self.engine.snapshot.languages)

    def context(self, *, error: str | None) -> dict[str, Any]:
        response = self.response if error is None else None
        query = self.params.get("q", "")
        results = [_result_view(r, query) for r in response.results] if response else []
        return {
            "query": query,
            "mode": self.mode,
            "lang": self.lang,
            "modes": _MODES,
            "languages": _LANGUAGES,
            "hidden": [(k, v) for k, v in self.params.multi_items() if k not in _FORM_KEYS],
            "response": response,
            "results": results,
            "error": error,
            "previous_url": self._page_url(response, -1),
            "next_url": self._page_url(response, +1),
            "hints": self._hints(response) if response and not results else [],
            "json_url": self._url(format="json") if response else None,
            "translation_off": _translation_off(self.engine),
        }

    def _url(self, **changes: str | None) -> str:
        """This page's URL with some parameters replaced (None removes one)."""
        kept = [(k, v) for k, v in self.params.multi_items() if k not in changes]
        added = [(k, v) for k, v in changes.items() if v is not None]
        return "/?" + urlencode(kept + added)

    def _page_url(self, response: SearchResponse | None, step: int) -> str | None:
        """The previous (step -1) or next (+1) page, or None at either end."""
        if response is None or (step < 0 and response.offset == 0):
            return None
        offset = response.offset + step * response.limit
        if offset >= response.total:
            return None
        return self._url(offset=str(offset) if offset > 0 else None)

    def _hints(self, response: SearchResponse) -> list[tuple[str, str]]:
        """Other searches that may find something: another mode or every language."""
        hints = []
        if response.offset > 0 and response.total > 0:
            hints.append(("the first page", self._url(offset=None)))
        for value, label in _MODES:
            if value != self.mode:
                hints.append((f"{label.lower()} search", self._url(mode=value, offset=None)))
        if self.lang != "all":
            hints.append(("all languages", self._url(lang=None, offset=None)))
        return hints


def _search_request(params: QueryParams, *, require_query: bool = True) -> SearchRequest:
    """Query string -> `SearchRequest`, exactly as /api/search reads it."""
    return parse_search_request(
        params.multi_items(), require_query=require_query, also_accepted=_PAGE_KEYS
    )


def _result_view(result: SearchResult, query: str) -> _ResultView:
    """How a result reads on the page: its link, snippet and why it matched."""
    why = []
    scores = []
    if result.lexical:
        why.append(f"keyword #{result.lexical.rank}")
        scores.append(f"BM25 {result.lexical.score:.2f}")
    if result.semantic:
        why.append(f"meaning #{result.semantic.rank}")
        scores.append(f"cosine {result.semantic.score:.3f}")
    if result.via_translation:
        why.append("matched via translation")
    if result.lexical and result.semantic:
        scores.append(f"fused score {result.score:.4f}")
    link = urlencode({"passage": result.passage_id, "q": query})
    return _ResultView(
        result=result,
        href=f"/articles/{quote(result.article_id, safe='')}?{link}#passage",
        snippet=snippet_html(result),
        language_name=_LANGUAGE_NAMES.get(result.lang, result.lang),
        why=" · ".join(why),
        scores=" · ".join(scores),
    )


def _article_context(article: ArticleView, passage_id: str) -> dict[str, Any]:
    before, passage_html, after = _split_article(article, passage_id)
    return {
        "article": article,
        "language_name": _LANGUAGE_NAMES.get(article.lang, article.lang),
        "original_url": _safe_url(article.url),
        "json_url": f"/articles/{quote(article.id, safe='')}?format=json",
        "before": before,
        "passage_html": passage_html,
        "after": after,
    }


def _split_article(article: ArticleView, passage_id: str) -> tuple[str, Markup | None, str]:
    """The text before the passage, the passage with its highlights as HTML, the rest."""
    passage = article.passage(passage_id)
    if passage is None:
        return article.text, None, ""
    window = TextWindow(passage.start, passage.end)
    pieces = split_by_highlights(article.text, passage.highlights, window)
    return article.text[: passage.start], marked_html(pieces), article.text[passage.end :]


def _safe_url(url: str | None) -> str | None:
    """Only http(s) links: a `javascript:` URL from the data must never become an href."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def _translation_off(engine: SearchEngine) -> bool:
    return not engine.health().translation.query


def asset_urls(static_dir: Path = _HERE / "static") -> dict[str, str]:
    """`/static/<name>?v=<hash of its content>`, so browsers never use a stale copy."""
    return {
        path.name: f"/static/{path.name}?v={hashlib.sha256(path.read_bytes()).hexdigest()[:10]}"
        for path in sorted(static_dir.iterdir())
        if path.is_file()
    }
