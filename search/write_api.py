"""The write API: `PUT` and `DELETE /api/articles/{id}`, for pipelines.

Parses the request (who may write, a bounded JSON body), calls `ArticleWriter`,
and answers once the change is searchable. The rules of an article and the errors
live in the core (`search.writer`); `search.http_errors` maps them to statuses.

Off unless the app is created with `WriteAccess`: then the routes do not exist,
a PUT or DELETE is answered 405 like any method the path lacks, and the OpenAPI
document does not list them. With a token, a request must carry
`Authorization: Bearer <token>` (401 without it, 403 with another). Without a
token, which the command line allows only on a loopback address, a write must
still name a loopback host: a web page on a domain that resolves to 127.0.0.1
(DNS rebinding) sends its own name and is refused.

Writes run in worker threads, one at a time, apart from the search workers: a
queue of writes never takes a thread that a search is waiting for.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from indexer.settings import DEFAULT_MAX_ARTICLE_MB
from search.errors import bad_parameter
from search.models import WriteResult
from search.schemas import ARTICLE_BODY_SCHEMA, DELETE_RESPONSES, PUT_RESPONSES
from search.settings import is_loopback
from search.writer import ArticleWriter

__all__ = ["WriteAccess", "write_router"]

_T = TypeVar("_T")
# Room for the fields around the text and for JSON's escapes (\u00e9 is 6 bytes
# for a 2-byte é): the text's own limit is checked once it is decoded.
_BODY_ALLOWANCE = 3


@dataclass(frozen=True, slots=True)
class WriteAccess:
    """Writes are on. `token`: what requests must carry; None only on loopback (the
    command line checks that, `ServiceSettings.check_writes`). `max_article_mb`: the
    largest text a write takes (a larger one is refused, 413)."""

    token: str | None = field(default=None, repr=False)
    max_article_mb: float = DEFAULT_MAX_ARTICLE_MB


class _OneWriter:
    """Runs writes in a worker thread, one at a time, with their own capacity
    limiter (created in the event loop on first use), not the searches'."""

    def __init__(self) -> None:
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, function: Callable[..., _T], *args: object) -> _T:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(1)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)


def write_router(access: WriteAccess) -> APIRouter:
    """The write routes; `request.app.state.writer` is the `ArticleWriter`."""
    one_writer = _OneWriter()
    router = APIRouter(prefix="/api", dependencies=[Depends(_guard(access))], tags=["writes"])

    async def api_put_article(request: Request, article_id: str) -> JSONResponse:
        writer: ArticleWriter = request.app.state.writer
        record = _parse_json(await _read_body(request, writer.max_article_mb))
        result = await one_writer.run(writer.put, article_id, record)
        return _answer(result, created=bool(result.added))

    async def api_delete_article(request: Request, article_id: str) -> JSONResponse:
        writer: ArticleWriter = request.app.state.writer
        return _answer(await one_writer.run(writer.delete, article_id), created=False)

    router.add_api_route(
        "/articles/{article_id:path}",
        api_put_article,
        methods=["PUT"],
        operation_id="api_put_article",
        summary="Insert or replace an article; answers once it is searchable",
        responses=PUT_RESPONSES,
        openapi_extra={"requestBody": {"required": True, "content": ARTICLE_BODY_SCHEMA}},
    )
    router.add_api_route(
        "/articles/{article_id:path}",
        api_delete_article,
        methods=["DELETE"],
        operation_id="api_delete_article",
        summary="Remove an article; answers once it is gone from search",
        responses=DELETE_RESPONSES,
    )
    return router


def _answer(result: WriteResult, *, created: bool) -> JSONResponse:
    return JSONResponse(asdict(result), status_code=201 if created else 200)


def _guard(access: WriteAccess) -> Callable[..., None]:
    """The dependency that lets a write in: the token's check (documented in OpenAPI as
    the bearer scheme), or without a token the loopback host's."""
    if access.token is None:
        return _require_loopback_host
    expected = access.token.encode()
    bearer = HTTPBearer(
        auto_error=False,
        description="The service's SEARCH_WRITE_TOKEN: `Authorization: Bearer <token>`.",
    )

    def require_token(
        credentials: HTTPAuthorizationCredentials | None = Security(bearer),  # noqa: B008
    ) -> None:
        if credentials is None:
            raise HTTPException(
                401,
                "Writes need Authorization: Bearer <token> (the service's SEARCH_WRITE_TOKEN).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(credentials.credentials.encode(), expected):
            raise HTTPException(403, "The bearer token is not the service's write token.")

    return require_token


def _require_loopback_host(request: Request) -> None:
    host = request.url.hostname or ""
    if not is_loopback(host):
        raise HTTPException(
            403,
            f"This service takes writes without a token only for a loopback host "
            f"(localhost, 127.0.0.1, [::1]); this request names {host!r}. Set "
            "SEARCH_WRITE_TOKEN to accept writes from elsewhere.",
        )


async def _read_body(request: Request, max_article_mb: float) -> bytes:
    """The body, read no further than its limit (413 past it, before it is all sent)."""
    limit = int(max_article_mb * 1e6 * _BODY_ALLOWANCE) + 64 * 1024
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, _too_large(int(declared), limit))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, _too_large(size, limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> str:
    return (
        f"The body is {size} bytes or more; a write takes at most {limit} (the article's "
        "text at most SEARCH_MAX_ARTICLE_MB of UTF-8). Split the article."
    )


def _parse_json(body: bytes) -> Any:
    """The body's JSON value; what is not JSON is a 400 saying where it broke."""
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise bad_parameter(
            "body", "The body is not UTF-8 (at byte {at}); send JSON in UTF-8.", at=error.start
        ) from None
    except json.JSONDecodeError as error:
        raise bad_parameter(
            "body",
            "The body is not JSON: {problem} at line {line}, column {column}. Send an "
            'object such as {{"title": "...", "text": "..."}}.',
            problem=error.msg,
            line=error.lineno,
            column=error.colno,
        ) from None
    except (ValueError, RecursionError) as error:  # a 5,000-digit number; deep nesting
        raise bad_parameter(
            "body", "The body could not be read as JSON: {problem}.", problem=str(error)[:200]
        ) from None
