"""What `make bench-scale` measures at one size, and how it is printed: two Markdown
tables (the headline figures, then where the time and memory go) and the goals of
issue 15 next to the measured values.

Latencies are (p50, p95) in ms; memory in MiB as the kernel reports it (VmRSS:
resident pages, memory-mapped index files included).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["SizeFigures", "print_goals", "print_tables"]

Pair = tuple[float, float]
_MODES = ("hybrid", "lexical", "semantic")


@dataclass(frozen=True, slots=True)
class SizeFigures:
    passages: int
    articles: int
    tile_seconds: float  # making the synthetic copies (not part of a build)
    copy_cosine: float  # mean cosine of a noisy copy's vector to its original's
    build_seconds: float  # the real writers, publish included
    stage_seconds: dict[str, float]  # the writers' own stages: store, lexical, vectors
    build_peak_mb: float  # the building process's peak RSS
    index_mb: float  # the generation directory on disk (hard links counted once)
    startup_seconds: float  # launch of `python -m search serve` -> /api/health answers
    warm_seconds: float  # launch -> /api/health lists nothing warming (background work)
    rss_at_health_mb: float
    rss_warm_mb: float  # after a warm-up of every mode and one "did you mean"
    anon_warm_mb: float  # of which the process's own (the rest: mapped index files, libraries)
    rss_peak_mb: float  # VmHWM after the HTTP run
    http: dict[str, Pair]  # mode -> (p50, p95) over HTTP
    in_process: dict[str, Pair]  # mode -> (p50, p95), SearchEngine.search
    first_search_ms: float  # a fresh engine's first search (builds the article facts)
    first_suggest_ms: float  # its first "did you mean" (builds the vocabulary)
    facts_mb: float  # growth of the process's own memory (RssAnon) from the first search
    suggest_mb: float  # ... from the first "did you mean"
    vector_kind: str  # "exact", "ivf <lists> lists, <probes> probes" or "hnsw <dtype> M ..."
    recall_at_10: float | None  # None: the exact scan is the index
    recall_at_100: float | None
    ann_ms: Pair | None
    exact_ms: Pair | None
    load: str  # the 1-minute load average before and after this size
    total_seconds: float  # this size, from tiling to the last measurement


def _pair(value: Pair | None) -> str:
    return "-" if value is None else f"{value[0]:.1f}, {value[1]:.1f}"


def _modes(figures: dict[str, Pair]) -> str:
    return " / ".join(_pair(figures.get(mode)) for mode in _MODES)


def _ratio(value: float | None) -> str:
    return "exact" if value is None else f"{value:.4f}"


def _header(columns: Sequence[str], aligns: str) -> str:
    """A Markdown table head; `aligns` has one letter a column: r(ight) or l(eft)."""
    marks = {"r": "---:", "l": "---"}
    return "\n| " + " | ".join(columns) + " |\n| " + " | ".join(marks[a] for a in aligns) + " |"


_HEADLINE = (
    "passages", "build s", "index MB", "server RSS MB", "start-up s",
    "in-process hybrid / lexical / semantic (p50, p95 ms)",
    "HTTP hybrid / lexical / semantic (p50, p95 ms)", "ANN recall@10",
)  # fmt: skip
_DETAILS = (
    "passages", "articles", "copy cosine", "tile s", "writers s: store / lexical / vectors",
    "build peak RSS MB", "warm s", "server RSS MB: at health / warm (own) / peak",
    "first search ms (+own MB)", '"did you mean" first ms (+own MB)', "vectors",
    "ANN p50, p95 ms", "exact p50, p95 ms", "recall@100", "load", "size total s",
)  # fmt: skip


def print_tables(rows: Sequence[SizeFigures]) -> None:
    print(_header(_HEADLINE, "rrrrrllr"))
    for row in rows:
        print(
            f"| {row.passages:,} | {row.build_seconds:.1f} | {row.index_mb:.0f} | "
            f"{row.rss_warm_mb:.0f} | {row.startup_seconds:.1f} | {_modes(row.in_process)} | "
            f"{_modes(row.http)} | {_ratio(row.recall_at_10)} |"
        )
    print(_header(_DETAILS, "rrrrlrrlllllrrlr"))
    for row in rows:
        stages = " / ".join(f"{row.stage_seconds.get(s, 0):.1f}" for s in _STAGES)
        print(
            f"| {row.passages:,} | {row.articles:,} | {row.copy_cosine:.3f} | "
            f"{row.tile_seconds:.1f} | {stages} | {row.build_peak_mb:.0f} | "
            f"{row.warm_seconds:.1f} | "
            f"{row.rss_at_health_mb:.0f} / {row.rss_warm_mb:.0f} ({row.anon_warm_mb:.0f}) / "
            f"{row.rss_peak_mb:.0f} | {row.first_search_ms:.0f} (+{row.facts_mb:.0f}) | "
            f"{row.first_suggest_ms:.0f} (+{row.suggest_mb:.0f}) | {row.vector_kind} | "
            f"{_pair(row.ann_ms)} | {_pair(row.exact_ms)} | {_ratio(row.recall_at_100)} | "
            f"{row.load} | {row.total_seconds:.0f} |"
        )


_STAGES = ("store", "lexical", "vectors")


@dataclass(frozen=True, slots=True)
class _Goal:
    passages: int
    label: str
    value: Callable[[SizeFigures], float]
    limit: float
    at_least: bool = False  # the value must reach the limit, not stay under it


def _hybrid_p50(row: SizeFigures) -> float:
    return row.in_process["hybrid"][0]


def _goals(hybrid_1k: float) -> list[_Goal]:
    """Issue 15's goals. Server RSS is taken after the warm-up (what a running
    server holds); an index small enough to need no graph has recall 1."""
    return [
        _Goal(1_000_000, "hybrid p50 in-process <= 60 ms", _hybrid_p50, 60),
        _Goal(1_000_000, "server RSS <= 1,500 MB", lambda row: row.rss_warm_mb, 1500),
        _Goal(1_000_000, "start-up <= 5 s", lambda row: row.startup_seconds, 5),
        _Goal(
            1_000_000,
            "ANN recall@10 >= 0.98",
            lambda row: 1.0 if row.recall_at_10 is None else row.recall_at_10,
            0.98,
            at_least=True,
        ),
        _Goal(100_000, "server RSS <= 500 MB", lambda row: row.rss_warm_mb, 500),
        _Goal(
            100_000,
            f"hybrid p50 <= 1.5 x 1k's ({1.5 * hybrid_1k:.1f} ms)",
            _hybrid_p50,
            1.5 * hybrid_1k,
        ),
    ]


def print_goals(rows: Sequence[SizeFigures]) -> None:
    """Each goal with the figure this run measured, or "not run"."""
    by_size = {row.passages: row for row in rows}
    thousand = by_size.get(1_000)
    print(_header(("goal (issue 15)", "measured", "met"), "lrl"))
    for goal in _goals(_hybrid_p50(thousand) if thousand else math.nan):
        row = by_size.get(goal.passages)
        label = f"{goal.passages // 1000:,}k: {goal.label}".replace("1,000k", "1M")
        if row is None or math.isnan(goal.limit):
            print(f"| {label} | not run | - |")
            continue
        value = goal.value(row)
        met = value >= goal.limit if goal.at_least else value <= goal.limit
        print(f"| {label} | {value:.4g} | {'yes' if met else 'NO'} |")
