"""HTTP clients for `make bench`: one at a time for latency, many at once for throughput.

Clients are threads of the bench process, each with its own keep-alive
connection (`http.client`: the lightest client in the standard library, so the
clients take as little as possible of the two cores from the server). Every
request carries a query no earlier request used, so the server's caches of query
vectors and translations never answer for it: each figure is a cold query.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from search.bench.stats import Summary, summarise

__all__ = ["LoadResult", "fetch_ms", "load"]


def _path(query: str, mode: str) -> str:
    return "/api/search?" + urlencode({"q": query[:1000], "mode": mode})


def fetch_ms(connection: http.client.HTTPConnection, query: str, *, mode: str) -> float | None:
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
        connection = http.client.HTTPConnection(host, port, timeout=60)
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


def _one(connection: http.client.HTTPConnection, query: str, mode: str) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        connection.request("GET", _path(query, mode))
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException):
        connection.close()  # reconnects on the next request
        return 0, (time.perf_counter() - started) * 1000
    return response.status, (time.perf_counter() - started) * 1000
