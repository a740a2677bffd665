"""The JSON API: read parameters, call the engine, return its data as JSON.

Errors are raised as domain errors and mapped to the one JSON error shape by
`search.http_errors`. Every route answers GET and HEAD (HEAD: same status and
headers, no body), documented as two operations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from search.engine import SearchEngine
from search.export import export_file, export_response
from search.json_body import encoded_json_response
from search.lean_route import RequestOnlyRoute
from search.params import output_format, parse_passage_numbers, parse_search_request
from search.rendering import article_body, search_json
from search.schemas import (
    ARTICLE_RESPONSES,
    HEALTH_RESPONSES,
    SEARCH_RESPONSES,
    SOURCES_RESPONSES,
    openapi_parameters,
)

__all__ = ["api_router"]


def api_router() -> APIRouter:
    router = APIRouter(prefix="/api")

    def api_search(request: Request) -> Response:
        engine: SearchEngine = request.app.state.engine
        items = request.query_params.multi_items()
        response = engine.search(parse_search_request(items))
        export = output_format(items)
        if export in (None, "json"):
            # A Response, not a dict: FastAPI would first walk the whole body with
            # `jsonable_encoder` (~1.5-2.5 ms for 10 results).
            return encoded_json_response(search_json(response))
        base_url = str(request.base_url).rstrip("/")
        return export_response(export_file(response, export, base_url=base_url))

    def api_article(
        request: Request,
        article_id: str,
        q: str = "",
        mt: Annotated[
            list[str],
            Query(
                description="Passages to machine-translate (their own text): numbers "
                "within the article, from 1, or all; repeatable."
            ),
        ] = [],  # noqa: B006 (FastAPI copies defaults per request)
    ) -> dict[str, Any]:
        engine: SearchEngine = request.app.state.engine
        passages = parse_passage_numbers(mt)
        return article_body(engine.article(article_id, query=q, translate_passages=passages))

    def api_sources(request: Request) -> dict[str, Any]:
        engine: SearchEngine = request.app.state.engine
        return asdict(engine.sources())

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
        response_model=None,
        openapi_extra={"parameters": openapi_parameters()},
        route_class_override=RequestOnlyRoute,  # the hot path: nothing for FastAPI to solve
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
        "/sources",
        api_sources,
        tags=["search"],
        summary="Every source, with its number of articles",
        responses=SOURCES_RESPONSES,
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
    """A GET route and its HEAD twin. HEAD's responses are documented with their
    content types but without the bodies' schemas, as it never sends a body: FastAPI
    builds a pydantic schema for every response model of every route, and the HEAD
    twins' took half of `create_app` (0.1 s of the start-up's critical path)."""
    head_options = {**options, "responses": _without_models(options.get("responses", {}))}
    for method, method_options in (("GET", options), ("HEAD", head_options)):
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            operation_id=f"{endpoint.__name__}_{method.lower()}",
            **method_options,
        )


def _without_models(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    return {
        status: {key: value for key, value in response.items() if key != "model"}
        for status, response in responses.items()
    }
