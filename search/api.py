"""The JSON API: read parameters, call the engine, return its data as JSON.

Errors are raised as domain errors and mapped to the one JSON error shape by
`search.http_errors`. Every route answers GET and HEAD (HEAD: same status and
headers, no body), documented as two operations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request

from search.engine import SearchEngine
from search.params import openapi_parameters, parse_search_request
from search.rendering import article_body, search_body
from search.schemas import ARTICLE_RESPONSES, HEALTH_RESPONSES, SEARCH_RESPONSES

__all__ = ["api_router"]


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api")

    def api_search(request: Request) -> dict[str, Any]:
        engine: SearchEngine = request.app.state.engine
        search_request = parse_search_request(request.query_params.multi_items())
        return search_body(engine.search(search_request))

    def api_article(request: Request, article_id: str, q: str = "") -> dict[str, Any]:
        engine: SearchEngine = request.app.state.engine
        return article_body(engine.article(article_id, query=q))

    async def api_health(request: Request) -> dict[str, Any]:
        # async: in memory, and it must answer even when every worker thread is busy
        engine: SearchEngine = request.app.state.engine
        return asdict(engine.health())

    _get_and_head(
        router,
        "/search",
        api_search,
        tags=["search"],
        summary="Search passages",
        responses=SEARCH_RESPONSES,
        openapi_extra={"parameters": openapi_parameters()},
    )
    _get_and_head(
        router,
        "/articles/{article_id:path}",
        api_article,
        tags=["articles"],
        summary="One article, with the highlights of q",
        responses=ARTICLE_RESPONSES,
    )
    _get_and_head(
        router,
        "/health",
        api_health,
        tags=["health"],
        summary="Index and service state",
        responses=HEALTH_RESPONSES,
    )
    return router


def _get_and_head(
    router: APIRouter, path: str, endpoint: Callable[..., Any], **options: Any
) -> None:
    for method in ("GET", "HEAD"):
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            operation_id=f"{endpoint.__name__}_{method.lower()}",
            **options,
        )
