"""`make bench`'s HTTP client against real uvicorn servers: the search app on a real
index, and a small app with the other answers a client must get right (a closed
connection, a chunked body, a refusal)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from search.background_server import free_port, serve
from search.bench.clients import Connection, fetch_ms, load

pytestmark = pytest.mark.fast


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


@pytest.fixture(scope="module")
def odd_url() -> Iterator[str]:
    """Answers a client must handle besides a kept-alive body with a length."""
    app = FastAPI()

    @app.get("/port")
    def port(request: Request) -> Response:  # the client's port: one per connection
        assert request.client is not None
        return Response(str(request.client.port))

    @app.get("/close")
    def close() -> Response:
        return Response("bye", headers={"Connection": "close"})

    @app.get("/chunked")
    def chunked() -> StreamingResponse:
        return StreamingResponse(iter([b"a" * 5000, b"b" * 70_000, b"c"]))

    @app.get("/api/search")
    def busy() -> Response:
        return Response("busy", status_code=503, headers={"Retry-After": "1"})

    with serve(app) as url:
        yield url


@pytest.fixture
def connection(odd_url: str) -> Iterator[Connection]:
    connection = Connection(*_address(odd_url))
    yield connection
    connection.close()


def test_every_search_of_every_client_is_answered(fake_server: str) -> None:
    host, port = _address(fake_server)
    queries = (f"hurricane {number}" for number in itertools.count())
    result = load(host, port, queries, clients=3, per_client=4, mode="hybrid")
    assert (result.answered, result.rejected, result.errors) == (12, 0, 0)
    assert result.latency.count == 12 and result.per_second > 0


def test_a_search_is_timed_only_when_answered(fake_server: str) -> None:
    connection = Connection(*_address(fake_server))
    try:
        assert (fetch_ms(connection, "sequía", mode="lexical") or 0) > 0
        assert fetch_ms(connection, "sequía", mode="no such mode") is None  # a 4xx
        assert (fetch_ms(connection, "hurricane", mode="hybrid") or 0) > 0
    finally:
        connection.close()


def test_one_connection_carries_request_after_request(connection: Connection) -> None:
    answers = [connection.get("/port") for _ in range(3)]
    assert {status for status, _ in answers} == {200}
    assert len({body for _, body in answers}) == 1  # the server saw one client port


def test_a_connection_the_server_closed_is_opened_again(connection: Connection) -> None:
    assert connection.get("/close") == (200, b"bye")
    first = connection.get("/port")
    second = connection.get("/port")
    assert first[0] == 200 and first == second  # a new connection, then kept


def test_a_chunked_body_is_read_to_its_end(connection: Connection) -> None:
    status, body = connection.get("/chunked")
    assert status == 200 and body == b"a" * 5000 + b"b" * 70_000 + b"c"
    assert connection.get("/close") == (200, b"bye")  # still in step with the server


def test_refusals_and_failures_are_counted_apart(odd_url: str) -> None:
    host, port = _address(odd_url)
    refused = load(host, port, iter(["q"] * 2), clients=1, per_client=2, mode="hybrid")
    assert (refused.answered, refused.rejected, refused.errors) == (0, 2, 0)
    nobody = load("127.0.0.1", free_port(), iter(["q"] * 2), clients=1, per_client=2, mode="x")
    assert (nobody.answered, nobody.rejected, nobody.errors) == (0, 0, 2)
