"""`create_app(engine)`: the whole service, JSON API and HTML pages, one process.

The engine lives on `app.state` (no module globals); a background thread looks
for a new index generation every `reload_seconds` and never dies.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search.api import api_router
from search.docs import register_docs
from search.engine import SearchEngine
from search.http_errors import error_response, install_error_handlers
from search.http_protocol import MAX_URL_BYTES, BoundedHeadProtocol, url_too_long_message
from search.web import register_pages

__all__ = ["MAX_URL_BYTES", "create_app", "server_options"]

if TYPE_CHECKING:  # the write API loads only when writes are on (~0.08 s of imports)
    from search.write_api import WriteAccess

log = logging.getLogger(__name__)


def server_options() -> dict[str, Any]:
    """Options for `uvicorn.run` / `uvicorn.Config` that every server of ours uses.

    httptools parses requests (`search.http_protocol`), on asyncio's own event loop:
    sharing a socket between processes relies on how asyncio accepts connections
    (`search.sibling_processes`).
    """
    return {"http": BoundedHeadProtocol, "loop": "asyncio"}


_STATIC = ("/static/", "/static-docs/")


class _AdmissionLimit:
    """ASGI middleware: at most `workers + queue` requests inside; the rest get 503.

    `workers` requests run at once (the thread pool that runs the endpoints is
    sized to it in the lifespan); up to `queue` more wait for a worker. Past that,
    a request is answered at once with 503 and `Retry-After`, so overload costs
    clients a retry instead of a latency that grows without limit. Health checks
    and static files are never refused.
    """

    def __init__(self, app: ASGIApp, *, workers: int, queue: int) -> None:
        self._app = app
        self._capacity = workers + queue
        self._inside = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == "/api/health" or path.startswith(_STATIC):
            await self._app(scope, receive, send)
            return
        if self._inside >= self._capacity:
            response = error_response(
                503,
                "overloaded",
                f"The service is answering {self._capacity} requests; try again in a second.",
                headers={"Retry-After": "1"},
            )
            await response(scope, receive, send)
            return
        self._inside += 1  # one event loop: no lock needed
        try:
            await self._app(scope, receive, send)
        finally:
            self._inside -= 1


class _ConnectionSteering:
    """ASGI middleware: `Connection: close` on a response when the process serving
    it has more open connections than its siblings (`search.sibling_processes`):
    the client reconnects, most often to a less busy process. Inactive unless
    `serve` set `app.state.close_connection` (more than one process)."""

    def __init__(self, app: ASGIApp, *, state: Any) -> None:
        self._app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        close_connection = getattr(self._state, "close_connection", None)
        if scope["type"] != "http" or close_connection is None:
            await self._app(scope, receive, send)
            return

        async def steering(message: Message) -> None:
            if message["type"] == "http.response.start" and close_connection():
                headers = [*message.get("headers", []), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self._app(scope, receive, steering)


class _UrlLengthLimit:
    """ASGI middleware: a URL longer than MAX_URL_BYTES is answered 414, JSON (our
    uvicorn protocol answers first, `search.http_protocol`; this is for other servers)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            if length > MAX_URL_BYTES:
                response = error_response(414, "uri_too_long", url_too_long_message(length))
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


def create_app(
    engine: SearchEngine | None,
    *,
    reload_seconds: float = 2.0,
    workers: int = 4,
    queue: int = 32,
    writes: WriteAccess | None = None,
) -> FastAPI:
    """`workers`: requests served at once; `queue`: how many more may wait (then 503).
    `writes`: the write API's access rule; None (the default) leaves it out.

    `engine` None: the caller sets `app.state.engine` before the app serves. `serve`
    builds the app (routes, schemas: 0.2-0.9 s) while the engine is still loading.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = workers
        if writes is not None and not hasattr(app.state, "writer"):  # the engine is set now
            from search.writer import ArticleWriter

            app.state.writer = ArticleWriter(app.state.engine, max_article_mb=writes.max_article_mb)
        stop = threading.Event()
        watcher = None
        if reload_seconds > 0:
            watcher = threading.Thread(
                target=_watch,
                args=(app.state.engine, stop, reload_seconds),
                daemon=True,
                name="reload",
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
        docs_url=None,  # served from bundled assets by `search.docs`, not a CDN
        redoc_url=None,
    )
    if engine is not None:
        app.state.engine = engine
    app.add_middleware(_AdmissionLimit, workers=workers, queue=queue)
    app.add_middleware(_UrlLengthLimit)
    app.add_middleware(_ConnectionSteering, state=app.state)
    install_error_handlers(app)
    app.include_router(api_router())
    if writes is not None:
        from search.write_api import write_router
        from search.writer import ArticleWriter

        if engine is not None:
            app.state.writer = ArticleWriter(engine, max_article_mb=writes.max_article_mb)
        app.include_router(write_router(writes))
    register_pages(app)
    register_docs(app)
    return app


def _watch(engine: SearchEngine, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            engine.reload_if_changed()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            log.exception("reload check failed")
