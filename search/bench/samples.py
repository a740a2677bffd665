"""Latency samples of one search after another, in-process or over HTTP: the
loops `make bench-scale` times at each archive size (milliseconds, wall clock)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from search.errors import BadQueryError
from search.models import Mode, SearchRequest

if TYPE_CHECKING:
    import httpx

    from search.engine import SearchEngine

__all__ = ["http_ms", "in_process_ms"]

_MAX_QUERY_CHARS = 1000  # the API's own limit on `q`


def in_process_ms(engine: SearchEngine, queries: list[str], mode: Mode) -> list[float]:
    """Milliseconds of each `engine.search` (a query the engine refuses is left out)."""
    samples = []
    for text in queries:
        started = time.perf_counter()
        try:
            engine.search(SearchRequest(query=text[:_MAX_QUERY_CHARS], mode=mode))
        except BadQueryError:
            continue
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def http_ms(http: httpx.Client, queries: list[str], mode: Mode) -> list[float]:
    """Milliseconds of each `/api/search` round trip that answered 200."""
    samples = []
    for text in queries:
        started = time.perf_counter()
        response = http.get("/api/search", params={"q": text[:_MAX_QUERY_CHARS], "mode": mode})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code == 200:
            samples.append(elapsed)
    return samples
