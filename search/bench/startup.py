"""Start-up as a user meets it: `serve` to its first health answer, and one
`python -m search query` from launch to exit, each a fresh interpreter.

    python -m search.bench.startup --index DIR [--against OTHER_CHECKOUT] [--rounds N]

Wall seconds, and the CPU seconds spent: on a shared machine the CPU figure
moves far less with other people's load than the wall one. With `--against`, a
second checkout (an older commit, say) takes turns with this one on every round.

Each checkout's bytecode is compiled first, as any run but the very first finds
it: a sandbox with PYTHONDONTWRITEBYTECODE=1 would otherwise compile all of
`search` and `indexer` from source at every launch (0.3-0.5 s on a busy 2-core
machine), which no installed copy does.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from search.bench.server import launch_seconds

__all__ = ["Startup", "main", "measure_startup", "query_command_seconds"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def query_command_seconds(
    index_dir: Path, query: str, *, checkout: Path = _REPO_ROOT
) -> tuple[float, float]:
    """`python -m search query QUERY --index DIR` of `checkout`, output discarded:
    wall seconds, and CPU seconds (its Apertium processes included)."""
    environment = {**os.environ, "PYTHONPATH": str(checkout)}
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "search", "query", query, "--index", str(index_dir.resolve())],
        env=environment,
        cwd=checkout,  # `-m` puts the working directory first on sys.path, before PYTHONPATH
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - started, _children_cpu_seconds() - cpu_before


@dataclass(slots=True)
class Startup:
    """Per launch: (wall seconds, CPU seconds)."""

    serve: list[tuple[float, float]] = field(default_factory=list)  # to the first health 200
    query: list[tuple[float, float]] = field(default_factory=list)  # launch -> exit

    def describe(self, which: str) -> str:
        runs = self.serve if which == "serve" else self.query
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        each = ", ".join(f"{w:.2f}" for w, _ in runs)
        return f"median {wall:5.2f} s ({each}); CPU {cpu:4.2f} s"


def measure_startup(
    index_dir: Path, *, rounds: int = 3, checkouts: tuple[Path, ...] = (_REPO_ROOT,)
) -> dict[Path, Startup]:
    """`rounds` of each, the checkouts taking turns (first one first on even rounds),
    so a busy spell slows all alike."""
    for checkout in checkouts:
        for package in ("indexer", "search"):
            compileall.compile_dir(checkout / package, quiet=1)
    results = {checkout: Startup() for checkout in checkouts}
    for round_number in range(rounds):
        order = checkouts if round_number % 2 == 0 else checkouts[::-1]
        for checkout in order:
            query = f"security chief attack {round_number}"
            results[checkout].serve.append(launch_seconds(index_dir, checkout=checkout))
            results[checkout].query.append(
                query_command_seconds(index_dir, query, checkout=checkout)
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.bench.startup", description=__doc__)
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--against", type=Path, help="another checkout, measured in turns")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    checkouts = (_REPO_ROOT,) if args.against is None else (_REPO_ROOT, args.against.resolve())
    for checkout, startup in measure_startup(
        args.index.resolve(), rounds=args.rounds, checkouts=checkouts
    ).items():
        print(f"{checkout}:")
        print(f"  `serve`: launch -> /api/health 200    {startup.describe('serve')}")
        print(f"  `python -m search query`: launch -> exit {startup.describe('query')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
