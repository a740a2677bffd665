"""One JSON error shape for every 4xx and 5xx, produced here and nowhere else.

`{"error": {"status", "code", "parameter", "message"}}`, pinned by
tests/test_api.py. No traceback ever reaches a client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from indexer.errors import DiskFullError, IndexerError, WriterBusyError
from search.errors import (
    ArticleNotFoundError,
    ArticleTooLargeError,
    BadArticleError,
    BadQueryError,
    IndexCorruptError,
)

__all__ = ["WRITER_BUSY_RETRY_SECONDS", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)

# What a write told "busy" waits before trying again: a one-article change takes
# seconds; a full build, minutes (the client may keep trying).
WRITER_BUSY_RETRY_SECONDS = 5
# Codes of the statuses Starlette raises itself (and the write API's auth checks).
_HTTP_CODES = {401: "unauthorized", 403: "forbidden", 413: "payload_too_large"}


def error_response(
    status: int,
    code: str,
    message: str,
    parameter: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"status": status, "code": code, "parameter": parameter, "message": message}},
        status_code=status,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(BadQueryError)
    async def bad_query(request: Request, error: BadQueryError) -> JSONResponse:
        return error_response(400, "bad_parameter", error.message, error.parameter)

    @app.exception_handler(ArticleNotFoundError)
    async def not_found(request: Request, error: ArticleNotFoundError) -> JSONResponse:
        return error_response(404, "article_not_found", str(error), "article_id")

    @app.exception_handler(IndexCorruptError)
    async def corrupt(request: Request, error: IndexCorruptError) -> JSONResponse:
        log.error("damaged index while serving %s: %s", request.url.path, error)
        return error_response(500, "index_corrupt", str(error))

    @app.exception_handler(BadArticleError)
    async def bad_article(request: Request, error: BadArticleError) -> JSONResponse:
        return error_response(422, "invalid_article", str(error), error.field)

    @app.exception_handler(ArticleTooLargeError)
    async def too_large(request: Request, error: ArticleTooLargeError) -> JSONResponse:
        return error_response(413, "article_too_large", str(error), "text")

    @app.exception_handler(WriterBusyError)
    async def busy(request: Request, error: WriterBusyError) -> JSONResponse:
        retry = WRITER_BUSY_RETRY_SECONDS
        message = f"{error} The change was not made; retry in {retry} s."
        return error_response(503, "writer_busy", message, headers={"Retry-After": str(retry)})

    @app.exception_handler(DiskFullError)
    async def disk_full(request: Request, error: DiskFullError) -> JSONResponse:
        log.error("disk full while writing to the index: %s", error)
        return error_response(507, "disk_full", str(error))

    @app.exception_handler(IndexerError)
    async def index_error(request: Request, error: IndexerError) -> JSONResponse:
        # The indexer's errors say what to do; a write that meets one changed nothing.
        log.error("index error on %s: %s", request.url.path, error)
        return error_response(500, "index_error", str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        location = [str(part) for part in first.get("loc", ()) if part not in ("query", "path")]
        parameter = location[0] if location else None
        message = f"{parameter}={first.get('input')!r}: {first.get('msg', 'invalid value')}."
        return error_response(400, "bad_parameter", message, parameter)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 404:
            return error_response(
                404, "not_found", f"No route {request.url.path}; see /docs for the API."
            )
        if error.status_code == 405:
            allowed = _allowed_methods(request)
            return error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed here; use {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(
            error.status_code,
            _HTTP_CODES.get(error.status_code, "http_error"),
            str(error.detail),
            headers=dict(error.headers) if error.headers else None,
        )

    @app.exception_handler(Exception)
    async def crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(500, "internal_error", "Internal error; it has been logged.")


def _allowed_methods(request: Request) -> list[str]:
    """Methods of every route matching this path (Starlette's own `Allow` names only
    the first, and GET and HEAD are separate routes here)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        for probe in ("GET", "HEAD"):
            match, _ = route.matches({**request.scope, "method": probe})
            if match != Match.NONE:
                methods |= getattr(route, "methods", None) or set()
    return sorted(methods) or ["GET", "HEAD"]
