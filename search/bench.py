"""`make bench`: latency of the search path and throughput of the encoder, printed.

    python -m search.bench [--index DIR] [--queries FILE.jsonl] [--count N]

Per mode: median and p95 of `/api/search` in-process (the engine call) and over
real HTTP (a uvicorn server on a loopback port, one client), plus the query
encoding alone, and the encoder's raw throughput on the index's own passages.
Queries come from a JSONL file with a `text` field (default: the XQuAD questions
beside the checkout, else a built-in bilingual list). Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.latency import p50_p95
from search.errors import BadQueryError
from search.models import MODES, Mode, SearchRequest

if TYPE_CHECKING:
    import httpx

    from search.engine import SearchEngine

__all__ = ["http_ms", "in_process_ms", "main"]

_DEFAULT_QUERIES = (
    Path(__file__).resolve().parents[1].parent / "shared/eval/xquad/bilingual/queries.jsonl"
)
_BUILTIN_QUERIES = [
    "security chief attack", "ataque contra el secretario de seguridad", "Garcia Harfuch",
    "cartel Jalisco Nueva Generación", "who ordered the ambush?", "extorsión a comerciantes",
    "press conference Mexico City", "¿quién amenazó al funcionario?", "national guard",
    "homicidios dolosos", "intelligence center threat", "Sheinbaum security strategy",
]  # fmt: skip


def _percentiles(samples: list[float]) -> str:
    median, p95 = p50_p95(samples)
    return f"median {median:7.2f} ms   p95 {p95:7.2f} ms"


def _load_queries(path: Path | None, count: int) -> list[str]:
    source = path or (_DEFAULT_QUERIES if _DEFAULT_QUERIES.exists() else None)
    if source is None:
        texts = _BUILTIN_QUERIES
    else:
        texts = [json.loads(line)["text"] for line in source.open(encoding="utf-8") if line.strip()]
    random.Random(0).shuffle(texts := list(texts))
    return (texts * (count // len(texts) + 1))[:count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search.bench", description=__doc__)
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--count", type=int, default=300, help="queries per mode")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurement")
    args = parser.parse_args(argv)

    from search.settings import ServiceSettings
    from search.wiring import build_engine

    queries = _load_queries(args.queries, args.count)
    engine = build_engine(ServiceSettings.from_env(), args.index)
    health = engine.health()
    print(
        f"index {args.index}: {health.passages} passages, generation {health.generation}; "
        f"query translation {'on' if engine.translation_available else 'off'}; "
        f"{len(queries)} queries per mode"
    )
    _bench_translation(queries)
    _bench_encoder(engine, queries)
    _bench_in_process(engine, queries)
    if not args.no_http:
        _bench_http(engine, queries)
    return 0


def _bench_translation(queries: list[str]) -> None:
    """Apertium per query (warm pipeline) and in a batch of passages, per direction."""
    from indexer.translation import ApertiumTranslator

    if not ApertiumTranslator.is_available():
        print("query translation               (Apertium not installed)")
        return
    with ApertiumTranslator() as translator:
        for source, target in (("en", "es"), ("es", "en")):
            translator.translate("warm up", source=source, target=target)
            samples = []
            for text in queries[:200]:
                started = time.perf_counter()
                translator.translate(text, source=source, target=target)
                samples.append((time.perf_counter() - started) * 1000)
            print(f"translate query {source}->{target}          {_percentiles(samples)}")


def _bench_encoder(engine: SearchEngine, queries: list[str]) -> None:
    encoder = engine.query_encoder
    for text in queries[:5]:
        encoder.encode([text])  # warm-up
    samples = []
    for text in queries:
        started = time.perf_counter()
        encoder.encode([text])
        samples.append((time.perf_counter() - started) * 1000)
    print(f"query encoding alone            {_percentiles(samples)}")
    snapshot = engine.snapshot
    texts = [snapshot.passage_text(p.row) for p in itertools.islice(snapshot.store.passages(), 512)]
    import os

    import torch

    query_threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)  # as `indexer build` runs it
    try:
        started = time.perf_counter()
        encoder.encode(texts, batch_size=32)
        seconds = time.perf_counter() - started
    finally:
        torch.set_num_threads(query_threads)
    print(
        f"encoder raw throughput          {len(texts) / seconds:7.1f} passages/s "
        f"({len(texts)} passages of the index, batch 32, {os.cpu_count()} torch threads)"
    )


def in_process_ms(engine: SearchEngine, queries: list[str], mode: Mode) -> list[float]:
    """Milliseconds of each `engine.search` (a query the engine refuses is left out)."""
    samples = []
    for text in queries:
        started = time.perf_counter()
        try:
            engine.search(SearchRequest(query=text[:1000], mode=mode))
        except BadQueryError:
            continue
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def http_ms(http: httpx.Client, queries: list[str], mode: Mode) -> list[float]:
    """Milliseconds of each `/api/search` round trip that answered 200."""
    samples = []
    for text in queries:
        started = time.perf_counter()
        response = http.get("/api/search", params={"q": text[:1000], "mode": mode})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code == 200:
            samples.append(elapsed)
    return samples


def _bench_in_process(engine: SearchEngine, queries: list[str]) -> None:
    for mode in MODES:
        engine.search(SearchRequest(query="warm up", mode=mode))
        engine.clear_caches()
        samples = in_process_ms(engine, queries, mode)
        print(f"in-process {mode:<9}            {_percentiles(samples)}")


def _bench_http(engine: SearchEngine, queries: list[str]) -> None:
    import httpx

    from search.app import create_app
    from search.background_server import serve

    with (
        serve(create_app(engine, reload_seconds=0)) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as http,
    ):
        for mode in MODES:
            http.get("/api/search", params={"q": "warm up", "mode": mode})
            engine.clear_caches()
            samples = http_ms(http, queries, mode)
            print(f"HTTP {mode:<9}                  {_percentiles(samples)}")


if __name__ == "__main__":
    sys.exit(main())
