"""Start-up as a user meets it: `serve` to its first health answer, and one
`python -m search query` from launch to exit, each a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from search.bench_server import launch_seconds

__all__ = ["Startup", "measure_startup", "query_command_seconds"]

_REPO_ROOT = Path(__file__).resolve().parents[1]


def query_command_seconds(index_dir: Path, query: str) -> float:
    """Wall seconds of `python -m search query QUERY --index DIR`, output discarded."""
    environment = {**os.environ, "PYTHONPATH": str(_REPO_ROOT)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "search", "query", query, "--index", str(index_dir)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started


@dataclass(frozen=True, slots=True)
class Startup:
    serve_seconds: list[float]  # launch -> first 200 from /api/health, per launch
    query_seconds: list[float]  # `python -m search query`, launch -> exit, per run


def measure_startup(index_dir: Path, *, rounds: int = 3) -> Startup:
    """`rounds` of each, alternating, so a busy spell slows both alike."""
    serve, query = [], []
    for round_number in range(rounds):
        serve.append(launch_seconds(index_dir))
        query.append(query_command_seconds(index_dir, f"security chief attack {round_number}"))
    return Startup(serve, query)
