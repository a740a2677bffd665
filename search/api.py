"""The JSON API: parse parameters, call the engine, map errors to one JSON shape.

Every 4xx and 5xx body is `{"error": {"status", "code", "parameter", "message"}}`,
produced by the handlers below (pinned by tests/test_api_errors.py). No traceback
ever reaches a client.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from search.engine import SearchEngine
from search.errors import ArticleNotFoundError, BadQueryError
from search.models import SearchRequest, SearchResponse

__all__ = ["create_app", "error_body", "parse_search_params", "response_json"]

log = logging.getLogger(__name__)


def error_body(status: int, code: str, message: str, parameter: str | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"status": status, "code": code, "parameter": parameter, "message": message}},
        status_code=status,
    )


def parse_search_params(
    *,
    q: str,
    mode: str,
    limit: int,
    offset: int,
    lang: list[str],
    source: list[str],
    date_from: str | None,
    date_to: str | None,
    per_article: int,
    fusion: str,
    alpha: float | None,
    rrf_k: int | None,
    translate: bool,
) -> SearchRequest:
    """Query-string values -> a `SearchRequest` (shared by the API and the HTML page)."""
    langs = tuple(dict.fromkeys(v.strip().lower() for v in lang for v in v.split(",") if v.strip()))
    return SearchRequest(
        query=q,
        mode=mode.strip().lower(),
        limit=limit,
        offset=offset,
        langs=tuple(v for v in langs if v != "all"),
        sources=tuple(s for s in source if s.strip()),
        date_from=_date("date_from", date_from),
        date_to=_date("date_to", date_to),
        per_article=per_article,
        fusion=fusion.strip().lower(),
        alpha=alpha,
        rrf_k=rrf_k,
        translate=translate,
    )


def _date(name: str, value: str | None) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as error:
        raise BadQueryError(name, f"{name}={value!r} is not a date; use YYYY-MM-DD.") from error


def response_json(response: SearchResponse) -> dict[str, Any]:
    return asdict(response)


def create_app(engine: SearchEngine, *, reload_seconds: float = 2.0) -> FastAPI:
    """The whole service: API, HTML pages and the hot-reload watcher, on `app.state`."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        watcher = None
        if reload_seconds > 0:
            watcher = threading.Thread(
                target=_watch, args=(engine, stop, reload_seconds), daemon=True, name="reload"
            )
            watcher.start()
        yield
        stop.set()
        if watcher:
            watcher.join(timeout=5)

    app = FastAPI(
        title="Bilingual article search",
        version="0.1.0",
        description="English + Spanish passage search: BM25 and dense embeddings, fused.",
        lifespan=lifespan,
    )
    app.state.engine = engine
    _install_error_handlers(app)

    @app.get("/api/search", tags=["search"])
    def api_search(
        q: Annotated[str, Query(description='words, "phrases", -excluded')],
        mode: Annotated[str, Query(description="hybrid | lexical | semantic")] = "hybrid",
        limit: Annotated[int, Query(description="results per page, 1..100")] = 10,
        offset: Annotated[int, Query(description="results to skip, 0..1000")] = 0,
        lang: Annotated[list[str] | None, Query(description="en, es, ... (repeatable)")] = None,
        source: Annotated[list[str] | None, Query(description="source filter")] = None,
        date_from: Annotated[str | None, Query(description="YYYY-MM-DD, inclusive")] = None,
        date_to: Annotated[str | None, Query(description="YYYY-MM-DD, inclusive")] = None,
        per_article: Annotated[int, Query(description="passages per article, 1..20")] = 1,
        fusion: Annotated[str, Query(description="rrf | weighted")] = "rrf",
        alpha: Annotated[
            float | None, Query(description="semantic weight for fusion=weighted, 0..1")
        ] = None,
        rrf_k: Annotated[int | None, Query(description="RRF constant, default 60")] = None,
        translate: Annotated[bool, Query(description="use query translation")] = True,
    ) -> dict[str, Any]:
        request = parse_search_params(
            q=q,
            mode=mode,
            limit=limit,
            offset=offset,
            lang=lang or [],
            source=source or [],
            date_from=date_from,
            date_to=date_to,
            per_article=per_article,
            fusion=fusion,
            alpha=alpha,
            rrf_k=rrf_k,
            translate=translate,
        )
        return response_json(engine.search(request))

    @app.get("/api/articles/{article_id:path}", tags=["articles"])
    def api_article(article_id: str) -> dict[str, Any]:
        return asdict(engine.article(article_id))

    @app.get("/api/health", tags=["health"])
    def api_health() -> dict[str, Any]:
        return engine.health()

    from search.web import register_pages

    register_pages(app)
    return app


def _watch(engine: SearchEngine, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            engine.reload_if_changed()
        except Exception:  # the watcher must never die
            log.exception("reload check failed")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BadQueryError)
    async def bad_query(request: Request, error: BadQueryError) -> JSONResponse:
        return error_body(400, "bad_parameter", error.message, error.parameter)

    @app.exception_handler(ArticleNotFoundError)
    async def not_found(request: Request, error: ArticleNotFoundError) -> JSONResponse:
        return error_body(404, "article_not_found", str(error), "article_id")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        location = [str(part) for part in first.get("loc", ()) if part not in ("query", "path")]
        parameter = location[0] if location else None
        if first.get("type") == "missing":
            message = f"{parameter} is required, e.g. /api/search?q=your+words"
        else:
            got = first.get("input")
            message = f"{parameter}={got!r}: {first.get('msg', 'invalid value')}."
        return error_body(400, "bad_parameter", message, parameter)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = "not_found" if error.status_code == 404 else "http_error"
        message = (
            f"No route {request.url.path}; see /docs for the API."
            if error.status_code == 404
            else str(error.detail)
        )
        return error_body(error.status_code, code, message)

    @app.exception_handler(Exception)
    async def crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return error_body(500, "internal_error", "Internal error; it has been logged.")
