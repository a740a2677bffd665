"""HTML pages: the search page at `/` and the article page, from the same data as the API.

One view per page builds its data from the engine's dataclasses (`search_page`,
`article_page`); `?format=json` returns that data as JSON (the same body as
/api/search and /api/articles/...), `?format=csv|markdown` the results as a file
with citations, otherwise a Jinja2 template renders it with autoescape on
(datasette's pattern). Parameters are read by `search.params`, exactly as
/api/search reads them. The page works without JavaScript: /static/app.js adds
keyboard shortcuts, re-runs the search when a filter changes, and scrolls to the
opened passage.

Language: `search.i18n` picks English or Spanish per request (the `ui` parameter,
else Accept-Language); each language has its own Jinja2 environment with its
gettext catalogue installed, so templates say `{% trans %}` and `_()`.

Escaping: every title, text and query goes through autoescape; highlights become
<mark> in `search.rendering`, which escapes every piece of text around them. HTML
responses also carry a strict Content-Security-Policy (no inline script, nothing
from other origins).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from search.article_page import article_context
from search.engine import SearchEngine
from search.errors import ArticleNotFoundError, BadQueryError
from search.export import export_file, export_response
from search.i18n import (
    CORE_NOTES,
    LANGUAGES,
    N_,
    UiLanguage,
    choose_language,
    load_catalogs,
    translate_error,
)
from search.page_urls import PageUrl
from search.params import output_format, parse_passage_numbers
from search.rendering import article_body, search_body
from search.search_page import SearchPage, page_search_request

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
    "Vary": "Accept-Language",
}
_UI_NAMES = {"en": "English", "es": "Español"}


class _Pages:
    """Per-language template environments and what every page's context shares."""

    def __init__(self) -> None:
        self.catalogs = load_catalogs()
        assets = asset_urls()
        self.environments: dict[str, Environment] = {}
        for language in LANGUAGES:
            environment = Environment(
                loader=FileSystemLoader(_HERE / "templates"),
                autoescape=True,
                undefined=StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
                extensions=["jinja2.ext.i18n"],
            )
            environment.install_gettext_translations(  # type: ignore[attr-defined]
                self.catalogs[language], newstyle=True
            )
            environment.globals["asset"] = assets
            self.environments[language] = environment

    def language(self, request: Request) -> UiLanguage:
        return choose_language(
            request.query_params.get("ui"), request.headers.get("accept-language")
        )

    def render(
        self, template: str, request: Request, ui: UiLanguage, status: int = 200, **context: Any
    ) -> HTMLResponse:
        url = PageUrl(request.url.path, request.query_params.multi_items())
        switch = [
            (code, name, str(url.with_({"ui": code, "format": None})), code == ui.code)
            for code, name in _UI_NAMES.items()
        ]
        html = (
            self.environments[ui.code]
            .get_template(template)
            .render(
                ui=ui.code,
                ui_param=ui.code if ui.explicit else None,
                ui_switch=switch,
                translation_off=_translation_off(request.app.state.engine),
                **context,
            )
        )
        return HTMLResponse(html, status_code=status, headers=_HTML_HEADERS)


def register_pages(app: FastAPI) -> None:
    """Adds `/`, `/articles/{id}` and `/static/` to `app` (engine on `app.state`)."""
    pages = _Pages()
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False, response_model=None)
    def search_page(request: Request) -> Response:
        engine: SearchEngine = request.app.state.engine
        params = request.query_params
        ui = pages.language(request)
        catalog = pages.catalogs[ui.code]
        page = SearchPage(params, engine, ui=ui, catalog=catalog)
        try:
            export = output_format(params.multi_items())
        except BadQueryError as error:  # an unknown format: say so on the page
            message = translate_error(error, catalog)
            return pages.render("search.html", request, ui, 400, **page.context(error=message))
        if export is not None:  # errors take the API's JSON handlers
            response = engine.search(page_search_request(params))
            if export == "json":
                return JSONResponse(search_body(response))
            return export_response(export_file(response, export, base_url=_base_url(request)))
        try:
            page.run()
        except BadQueryError as error:
            message = translate_error(error, catalog)
            return pages.render("search.html", request, ui, 400, **page.context(error=message))
        except Exception:  # never a traceback on the page
            log.exception("search page failed for %s", request.url)
            message = catalog.gettext(_INTERNAL_ERROR)
            return pages.render("search.html", request, ui, 500, **page.context(error=message))
        context = page.context(error=None)
        context["notes"] = [catalog.gettext(n) for n in _shown_notes(page)]
        return pages.render("search.html", request, ui, **context)

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
        ui = pages.language(request)
        catalog = pages.catalogs[ui.code]
        if params.get("format") == "json":  # errors take the API's JSON handlers
            passages = parse_passage_numbers(params.getlist("mt"))
            return JSONResponse(
                article_body(engine.article(article_id, query=query, translate_passages=passages))
            )
        context: dict[str, Any] = {"query": query, "article": None, "json_url": None}
        try:
            passages = parse_passage_numbers(params.getlist("mt"))
            article = engine.article(article_id, query=query, translate_passages=passages)
        except BadQueryError as error:
            message = translate_error(error, catalog)
            return pages.render("article.html", request, ui, 400, **context, error=message)
        except ArticleNotFoundError:
            message = catalog.gettext("No article with id %(id)s in the live index.") % {
                "id": repr(article_id)
            }
            return pages.render("article.html", request, ui, 404, **context, error=message)
        except Exception:  # never a traceback on the page
            log.exception("article page failed for %s", request.url)
            message = catalog.gettext(_INTERNAL_ERROR)
            return pages.render("article.html", request, ui, 500, **context, error=message)
        url = PageUrl(request.url.path, params.multi_items())
        context |= article_context(article, url, ui=ui, catalog=catalog)
        return pages.render("article.html", request, ui, **context, error=None)


_INTERNAL_ERROR = N_("Something went wrong on our side; it has been logged. Try again.")


def _shown_notes(page: SearchPage) -> list[str]:
    """The engine's notes worth a line on the page: translation failures (the page
    says "translation off" once, at the top, and marks unknown sources on chips)."""
    if page.response is None or _translation_off(page.engine):
        return []
    return [note for note in page.response.notes if note in CORE_NOTES]


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _translation_off(engine: SearchEngine) -> bool:
    return not engine.health().translation.query


def asset_urls(static_dir: Path = _HERE / "static") -> dict[str, str]:
    """`/static/<name>?v=<hash of its content>`, so browsers never use a stale copy."""
    return {
        path.name: f"/static/{path.name}?v={hashlib.sha256(path.read_bytes()).hexdigest()[:10]}"
        for path in sorted(static_dir.iterdir())
        if path.is_file()
    }
