"""Start-up as a user meets it: `serve` to its first health answer, and one
`python -m search query` from launch to exit, each a fresh interpreter.

The project's bytecode is compiled first, as any run but the very first finds
it: a sandbox with PYTHONDONTWRITEBYTECODE=1 would otherwise compile all of
`search` and `indexer` from source at every launch (0.3-0.5 s on a busy 2-core
machine), which no installed copy does.
"""

from __future__ import annotations

import compileall
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
    for package in ("indexer", "search"):
        compileall.compile_dir(_REPO_ROOT / package, quiet=1)
    serve, query = [], []
    for round_number in range(rounds):
        serve.append(launch_seconds(index_dir))
        query.append(query_command_seconds(index_dir, f"security chief attack {round_number}"))
    return Startup(serve, query)
