"""`create_app(engine)`: the whole service, JSON API and HTML pages, one process.

The engine lives on `app.state` (no module globals); a background thread looks
for a new index generation every `reload_seconds` and never dies.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator

from fastapi import FastAPI

from search.api import api_router
from search.engine import SearchEngine
from search.http_errors import install_error_handlers
from search.web import register_pages

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(engine: SearchEngine, *, reload_seconds: float = 2.0) -> FastAPI:
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
    install_error_handlers(app)
    app.include_router(api_router())
    register_pages(app)
    return app


def _watch(engine: SearchEngine, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        try:
            engine.reload_if_changed()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:
            log.exception("reload check failed")
