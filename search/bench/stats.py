"""Numbers for `make bench`: percentiles of samples, and a figure printed beside its goal.

Benchmarks print; they never assert. A goal is shown as met or missed so a reader
of the output sees at once what the issue asked and what this run measured. The
machine is shared, so goals are ratios of figures measured side by side where
possible, never absolute times from different runs.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Goal", "Summary", "line", "percentile", "summarise"]


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in [0, 1]) of non-empty `samples`."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class Summary:
    """Milliseconds (or whatever unit the samples had)."""

    p50: float
    p95: float
    count: int

    def __str__(self) -> str:
        return f"p50 {self.p50:7.2f} ms  p95 {self.p95:7.2f} ms  (n={self.count})"


def summarise(samples: Sequence[float]) -> Summary:
    if not samples:
        return Summary(float("nan"), float("nan"), 0)
    return Summary(statistics.median(samples), percentile(samples, 0.95), len(samples))


@dataclass(frozen=True, slots=True)
class Goal:
    """`figure <= limit` (at_most) or `figure >= limit`, with how to print the limit."""

    limit: float
    at_most: bool
    text: str  # e.g. "<= 0.5x txtai"

    def met(self, figure: float) -> bool:
        return figure <= self.limit if self.at_most else figure >= self.limit


def line(label: str, figure: str, goal: Goal | None = None, value: float | None = None) -> str:
    """One row of the report: label, figure, and the goal with met/MISSED if there is one."""
    row = f"{label:<42} {figure}"
    if goal is None:
        return row
    verdict = "" if value is None else ("met" if goal.met(value) else "MISSED")
    return f"{row:<88} goal {goal.text} {verdict}".rstrip()
