"""The JSON API: read parameters, call the engine, return its data as JSON.

Errors are raised as domain errors and mapped to the one JSON error shape by
`search.http_errors`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request

from search.engine import SearchEngine
from search.params import openapi_parameters, parse_search_request
from search.rendering import article_body, search_body

__all__ = ["api_router"]


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api")

    @router.get(
        "/search",
        tags=["search"],
        summary="Search passages",
        openapi_extra={"parameters": openapi_parameters()},
    )
    def api_search(request: Request) -> dict[str, Any]:
        engine: SearchEngine = request.app.state.engine
        search_request = parse_search_request(request.query_params.multi_items())
        return search_body(engine.search(search_request))

    @router.get("/articles/{article_id:path}", tags=["articles"], summary="One article")
    def api_article(request: Request, article_id: str, q: str = "") -> dict[str, Any]:
        engine: SearchEngine = request.app.state.engine
        return article_body(engine.article(article_id, query=q))

    @router.get("/health", tags=["health"], summary="Index and service state")
    def api_health(request: Request) -> dict[str, Any]:
        engine: SearchEngine = request.app.state.engine
        return asdict(engine.health())

    return router
