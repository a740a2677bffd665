"""Latency figures for the benchmarks: the median and the 95th percentile, in ms.

The 95th percentile is the sample at rank round(0.95 × (n − 1)) of the sorted
samples (no interpolation), so with few samples it is a real observed time.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

__all__ = ["p50_p95", "timed_ms"]

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def p50_p95(samples: Sequence[float]) -> tuple[float, float]:
    """(median, 95th percentile) of `samples`; (nan, nan) when there are none."""
    if not samples:
        return float("nan"), float("nan")
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[round(0.95 * (len(ordered) - 1))]


def timed_ms(
    call: Callable[[_Item], _Result], items: Iterable[_Item]
) -> tuple[list[float], list[_Result]]:
    """`call` on each item in turn: the milliseconds each took, and what each returned."""
    times: list[float] = []
    results: list[_Result] = []
    for item in items:
        started = time.perf_counter()
        results.append(call(item))
        times.append((time.perf_counter() - started) * 1000)
    return times, results
