"""HTTP clients for `make bench`: one at a time for latency, many at once for throughput.

Clients are threads of the bench process, each with its own keep-alive
connection (`Connection`): a request is written as bytes and the response parsed
by httptools, the C parser uvicorn itself serves with. The clients share the two
cores with the server, and what they spend is not the service's: on one server,
alternating request by request (300 searches each), `http.client` (the standard
library's lightest client, used before) took 0.62-0.65 ms of CPU per search and
this one 0.22-0.23, and the HTTP p50 measured through `http.client` was 0.11 ms
(seeds) and 0.69 ms (XQuAD) higher.

Every request carries a query no earlier request used, so the server's caches of
query vectors and translations never answer for it: each figure is a cold query.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import httptools

from search.bench.stats import Summary, summarise

__all__ = ["Connection", "LoadResult", "fetch_ms", "load"]

_READ_SIZE = 1 << 16


class Connection:
    """One kept-alive HTTP/1.1 connection to the server, for GET requests.

    Opened on first use, and again after the server closed it (`Connection: close`,
    which sibling processes send to move a client, or a failure). `get` returns the
    status and the body; any failure closes the connection and raises `OSError` or
    `httptools.HttpParserError`.
    """

    def __init__(self, host: str, port: int, *, timeout_s: float = 60.0) -> None:
        self._address = (host, port)
        self._timeout_s = timeout_s
        self._host_line = f"Host: {host}:{port}\r\n\r\n".encode("ascii")
        self._socket: socket.socket | None = None

    def get(self, path: str) -> tuple[int, bytes]:
        connection = self._socket if self._socket is not None else self._connect()
        response = _Response()
        parser = response.parser = httptools.HttpResponseParser(response)
        try:
            connection.sendall(b"GET " + path.encode("ascii") + b" HTTP/1.1\r\n" + self._host_line)
            while not response.complete:
                chunk = connection.recv(_READ_SIZE)
                if not chunk:
                    raise ConnectionError("the server closed the connection mid-response")
                parser.feed_data(chunk)
        except (OSError, httptools.HttpParserError):
            self.close()
            raise
        if not response.keep_alive:
            self.close()
        return parser.get_status_code(), b"".join(response.body)

    def connect(self) -> None:
        """Open the connection now (else the first `get` does, and is timed with it);
        a failure is left for `get` to meet and report."""
        if self._socket is None:
            with contextlib.suppress(OSError):
                self._connect()

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _connect(self) -> socket.socket:
        connection = socket.create_connection(self._address, timeout=self._timeout_s)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket = connection
        return connection


class _Response:
    """httptools' callbacks for one response: its body, whether it has ended, and
    whether the connection stays open after it (asked in the last callback: once
    the message is over the parser starts afresh and says False)."""

    def __init__(self) -> None:
        self.parser: httptools.HttpResponseParser | None = None
        self.body: list[bytes] = []
        self.complete = False
        self.keep_alive = False

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = self.parser is not None and self.parser.should_keep_alive()


def _path(query: str, mode: str) -> str:
    return "/api/search?" + urlencode({"q": query[:1000], "mode": mode})


def fetch_ms(connection: Connection, query: str, *, mode: str) -> float | None:
    """Milliseconds for one search, body read in full; None unless answered 200."""
    status, elapsed = _one(connection, query, mode)
    return elapsed if status == 200 else None


@dataclass(frozen=True, slots=True)
class LoadResult:
    clients: int
    seconds: float  # wall time from the first request sent to the last answer
    answered: int  # 200s
    rejected: int  # 503s: the admission limit, deliberate
    errors: int  # any other status, or a failed connection
    latency: Summary  # of the 200s, milliseconds

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0


def load(
    host: str, port: int, queries: Iterator[str], *, clients: int, per_client: int, mode: str
) -> LoadResult:
    """`clients` threads, each sending `per_client` searches back to back."""
    work = [[next(queries) for _ in range(per_client)] for _ in range(clients)]
    outcomes: list[tuple[int, float]] = []  # (status or 0 for a failure, ms)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(mine: Sequence[str]) -> None:
        connection = Connection(host, port)
        connection.connect()
        start.wait()
        try:
            for query in mine:
                outcome = _one(connection, query, mode)
                with lock:
                    outcomes.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(mine,)) for mine in work]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return LoadResult(
        clients=clients,
        seconds=seconds,
        answered=sum(1 for status, _ in outcomes if status == 200),
        rejected=sum(1 for status, _ in outcomes if status == 503),
        errors=sum(1 for status, _ in outcomes if status not in (200, 503)),
        latency=summarise([ms for status, ms in outcomes if status == 200]),
    )


def _one(connection: Connection, query: str, mode: str) -> tuple[int, float]:
    path = _path(query, mode)
    started = time.perf_counter()
    try:
        status, _ = connection.get(path)
    except (OSError, httptools.HttpParserError):  # closed: reconnects on the next request
        return 0, (time.perf_counter() - started) * 1000
    return status, (time.perf_counter() - started) * 1000
