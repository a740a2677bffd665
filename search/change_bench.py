"""What a change costs, and what searching sees while changes run: printed, not asserted.

    python -m search.change_bench [--source FILE.jsonl] [--work DIR] [--rounds 4]
                                  [--clients 16] [--skip-build]

Everything runs as a user would run it, as separate processes: `python -m indexer
build|add|remove|sync` and `python -m search serve`. In one run it measures:

1. a full build of the source (default: the XQuAD corpus, 826 passages);
2. `add` of one new article, and `sync` of a source with one changed line, as
   wall seconds of the whole command (process start included) and as a share of
   the full build;
3. `sync` with nothing changed, next to the bare start of the indexer's process;
4. `--clients` threads searching over HTTP while `add`, `remove` and `sync` run in
   a loop (`--rounds` times): errors, responses that mix generations (a marker
   article found in a generation that does not hold it, or missed in one that
   does), and how long after a command returns its change is visible.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from search.background_server import free_port

__all__ = ["main"]

_DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "shared/eval/xquad/bilingual/corpus.jsonl"
_MARKER_ID = "bench-marker"
_MARKER_WORD = "zanzibarquetzal"  # in no corpus: found only in the marker article
_RELOAD_SECONDS = 0.5
_QUERIES = ["defensive tackle sacks", "¿quién ganó el campeonato?", _MARKER_WORD]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.change_bench", description=__doc__)
    parser.add_argument("--source", type=Path, default=_DEFAULT_SOURCE)
    parser.add_argument("--work", type=Path, help="scratch directory (default: a temporary one)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--skip-build", action="store_true", help="reuse the index in --work")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="change-bench-"))
    source_dir, index_dir = work / "src", work / "index"
    if not args.skip_build:
        shutil.rmtree(work, ignore_errors=True)
        source_dir.mkdir(parents=True)
        shutil.copy(args.source, source_dir / "corpus.jsonl")
    print(f"source {args.source}; work {work}")
    build_s = (
        _run("build", "--source", str(source_dir / "corpus.jsonl"), "--index", str(index_dir))
        if not args.skip_build
        else float("nan")
    )
    manifest = _manifest(index_dir)
    print(f"full build          {build_s:8.1f} s  ({manifest['passages']} passages)")
    one = work / "one.jsonl"
    _write_article(one, "bench-added", f"A new report on {_MARKER_WORD} harvests in the valley.")
    add_s = _run("add", str(one), "--index", str(index_dir))
    print(
        f"add one article     {add_s:8.2f} s  = {add_s / build_s:.3f} of the full build "
        "(goal <= 0.10)"
    )
    _run("remove", "bench-added", "--index", str(index_dir))
    _append_line(source_dir / "corpus.jsonl", "bench-synced", "Una crónica nueva sobre el valle.")
    sync_one_s = _run("sync", str(source_dir / "corpus.jsonl"), "--index", str(index_dir))
    print(
        f"sync, one new line  {sync_one_s:8.2f} s  = {sync_one_s / build_s:.3f} of the full build"
    )
    idle_s = _run("sync", str(source_dir / "corpus.jsonl"), "--index", str(index_dir))
    start_s = _timed([sys.executable, "-c", "import indexer.cli, indexer.change_commands"])
    print(
        f"sync, nothing new   {idle_s:8.2f} s  (process start alone {start_s:.2f} s; goal: "
        f"<= 2 s plus start)"
    )
    _concurrency(index_dir, source_dir, work, rounds=args.rounds, clients=args.clients)
    return 0


@dataclass
class _Log:
    """What the writer published (generation -> marker present) and what readers saw."""

    marker_in: dict[str, bool] = field(default_factory=dict)
    seen: list[tuple[float, str, bool]] = field(default_factory=list)  # (time, generation, found)
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _concurrency(
    index_dir: Path, source_dir: Path, work: Path, *, rounds: int, clients: int
) -> None:
    port = free_port()
    env = {**os.environ, "SEARCH_RELOAD_SECONDS": str(_RELOAD_SECONDS)}
    server = subprocess.Popen(
        [sys.executable, "-m", "search", "serve", "--index", str(index_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base)
        log = _Log()
        log.marker_in[_manifest(index_dir)["generation"]] = False
        stop = threading.Event()
        threads = [
            threading.Thread(target=_client, args=(base, log, stop, n), daemon=True)
            for n in range(clients)
        ]
        for thread in threads:
            thread.start()
        marker = work / "marker.jsonl"
        _write_article(marker, _MARKER_ID, f"The {_MARKER_WORD} festival opened on Friday.")
        visible_after: list[float] = []
        started = time.perf_counter()
        for _ in range(rounds):
            for command, present in (
                (["add", str(marker)], True),
                (["remove", _MARKER_ID], False),
            ):
                _run(*command, "--index", str(index_dir))
                done = time.monotonic()
                generation = _manifest(index_dir)["generation"]
                with log.lock:
                    log.marker_in[generation] = present
                visible_after.append(_wait_visible(log, generation, done))
            _append_line(source_dir / "corpus.jsonl", f"sync-{time.time_ns()}", "Otra línea nueva.")
            _run("sync", str(source_dir / "corpus.jsonl"), "--index", str(index_dir))
            with log.lock:
                log.marker_in[_manifest(index_dir)["generation"]] = False
        elapsed = time.perf_counter() - started
        time.sleep(2 * _RELOAD_SECONDS)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)
    mixed = sum(
        1
        for _, generation, found in log.seen
        if generation in log.marker_in and log.marker_in[generation] != found
    )
    unknown = sum(1 for _, generation, _ in log.seen if generation not in log.marker_in)
    print(
        f"{clients} clients while add/remove/sync ran {rounds} rounds ({elapsed:.0f} s): "
        f"{log.requests} requests, errors {dict(log.errors) or 0}, "
        f"responses mixing generations {mixed} (of {len(log.seen)} marker queries; "
        f"{unknown} from generations not recorded), p50 {_quantile(log.latencies, 0.5):.0f} ms, "
        f"p95 {_quantile(log.latencies, 0.95):.0f} ms"
    )
    shown = [v for v in visible_after if v == v]
    print(
        f"change visible after the command returned: median {statistics.median(shown):.2f} s, "
        f"max {max(shown):.2f} s (server reload period {_RELOAD_SECONDS} s)"
        if shown
        else "change visibility: not observed"
    )


def _client(base: str, log: _Log, stop: threading.Event, number: int) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        turn = number
        while not stop.is_set():
            query = _QUERIES[turn % len(_QUERIES)]
            turn += 1
            started = time.perf_counter()
            try:
                response = client.get("/api/search", params={"q": query, "limit": 10})
            except httpx.HTTPError as error:
                with log.lock:
                    log.errors[type(error).__name__] = log.errors.get(type(error).__name__, 0) + 1
                continue
            took = (time.perf_counter() - started) * 1000
            with log.lock:
                log.requests += 1
                log.latencies.append(took)
                if response.status_code != 200:
                    key = str(response.status_code)
                    log.errors[key] = log.errors.get(key, 0) + 1
                    continue
                if query == _MARKER_WORD:
                    body = response.json()
                    found = any(r["article_id"] == _MARKER_ID for r in body["results"])
                    log.seen.append((time.monotonic(), body["generation"], found))


def _wait_visible(log: _Log, generation: str, since: float, timeout: float = 30.0) -> float:
    """Seconds from `since` until a reader answered from `generation` (NaN: never)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with log.lock:
            for when, seen, _ in reversed(log.seen):
                if seen == generation and when >= since:
                    return when - since
        time.sleep(0.02)
    return float("nan")


def _wait_healthy(base: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server at {base} did not become healthy in {timeout:.0f} s")


def _run(*args: str) -> float:
    """Wall seconds of `python -m indexer ARGS`; raises if it fails."""
    return _timed([sys.executable, "-m", "indexer", *args])


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return time.perf_counter() - started


def _manifest(index_dir: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((index_dir / "current/manifest.json").read_text())
    return manifest


def _write_article(path: Path, article_id: str, text: str) -> None:
    path.write_text(json.dumps({"id": article_id, "text": text}, ensure_ascii=False) + "\n")


def _append_line(path: Path, article_id: str, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": article_id, "text": text}, ensure_ascii=False) + "\n")


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


if __name__ == "__main__":
    raise SystemExit(main())
