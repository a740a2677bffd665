"""Measure the ONNX encoder against sentence-transformers: agreement and speed.

    python -m indexer.onnx_bench --data ../shared/eval/xquad/bilingual [--model REF]
                                 [--cache DIR] [--queries N]

On the XQuAD corpus: its paragraphs chunked as the build chunks them (passages),
the paragraphs whole (some exceed the model's 256 tokens: truncation), and the
questions. Prints, for sentence-transformers, ONNX fp32 and ONNX int8: cosine to
sentence-transformers, top-10 agreement by exact search of the questions over the
passages, query latency (one query per call, 1 thread), passage throughput (all
cores, batch 32, best of 3 runs), and the start-up time and peak RSS of a process that imports
the query encoder and encodes one query. Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from indexer.query_encoder import TextEncoder

if TYPE_CHECKING:
    from indexer.onnx_export import ExportedModel

__all__ = [
    "Agreement",
    "Footprint",
    "agreement",
    "footprint",
    "main",
    "query_latency_ms",
    "throughput",
]

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Agreement:
    """How closely a candidate encoder reproduces a reference one."""

    cosine_min: float
    cosine_p01: float  # 1st percentile
    cosine_mean: float
    same_top_k_set: float  # fraction of queries whose top k passages are the same set
    same_top_k_order: float  # ... the same list, in the same order
    overlap_at_k: float  # mean |top k ∩ reference top k| / k


@dataclass(frozen=True, slots=True)
class Footprint:
    seconds: float  # wall time: start the interpreter, import, load, encode one query
    peak_rss_mb: float


def agreement(
    reference: tuple[Vectors, Vectors],
    candidate: tuple[Vectors, Vectors],
    *,
    k: int = 10,
    extra_pairs: Sequence[tuple[Vectors, Vectors]] = (),
) -> Agreement:
    """`reference` and `candidate`: (passage vectors, query vectors), unit rows. Cosines
    are taken over passages, queries and `extra_pairs`; top k by exact dot product."""
    pairs = [(reference[0], candidate[0]), (reference[1], candidate[1]), *extra_pairs]
    cosines = np.concatenate([np.sum(a * b, axis=1) for a, b in pairs])
    expected = _top_k(reference[0], reference[1], k)
    got = _top_k(candidate[0], candidate[1], k)
    overlaps = [len(set(e) & set(g)) for e, g in zip(expected, got, strict=True)]
    return Agreement(
        cosine_min=float(cosines.min()),
        cosine_p01=float(np.percentile(cosines, 1)),
        cosine_mean=float(cosines.mean()),
        same_top_k_set=float(np.mean([o == k for o in overlaps])),
        same_top_k_order=float(np.mean(np.all(expected == got, axis=1))),
        overlap_at_k=float(np.mean(overlaps)) / k,
    )


def _top_k(passages: Vectors, queries: Vectors, k: int) -> npt.NDArray[np.int64]:
    scores = queries @ passages.T
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def query_latency_ms(
    encoders: Mapping[str, TextEncoder], queries: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """(p50, p95) milliseconds of `encode([query])`, per encoder. The encoders take
    turns on every query, so a busy machine slows all of them alike."""
    timings: dict[str, list[float]] = {name: [] for name in encoders}
    for encoder in encoders.values():
        encoder.encode(["warm up"])
    for query in queries:
        for name, encoder in encoders.items():
            start = time.perf_counter()
            encoder.encode([query])
            timings[name].append((time.perf_counter() - start) * 1000)
    return {
        name: (statistics.median(values), statistics.quantiles(values, n=20)[18])
        for name, values in timings.items()
    }


def throughput(
    encoders: Mapping[str, TextEncoder],
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    rounds: int = 3,
) -> dict[str, tuple[Vectors, float]]:
    """Per encoder: the vectors of one `encode` call over all `texts`, and the best
    texts per second over `rounds` calls (encoders take turns in each round)."""
    best: dict[str, tuple[Vectors, float]] = {}
    for encoder in encoders.values():
        encoder.encode(list(texts[:batch_size]), batch_size=batch_size)
    for _ in range(rounds):
        for name, encoder in encoders.items():
            start = time.perf_counter()
            vectors = encoder.encode(list(texts), batch_size=batch_size)
            rate = len(texts) / (time.perf_counter() - start)
            best[name] = (vectors, max(rate, best.get(name, (vectors, 0.0))[1]))
    return best


def footprint(code: str) -> Footprint:
    """Run `code` in a fresh interpreter (this checkout importable) and measure it."""
    # VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec.
    script = code + "\nprint(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    seconds = time.perf_counter() - start
    return Footprint(seconds, int(result.stdout.split()[-1]) / 1024)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer.onnx_bench", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="XQuAD-style corpus/queries")
    parser.add_argument("--model", help="sentence-transformers model (default: the setting)")
    parser.add_argument("--cache", type=Path, help="where to export (default: a temp dir)")
    parser.add_argument("--queries", type=int, default=300, help="queries timed for latency")
    parser.add_argument("--rounds", type=int, default=3, help="throughput runs; the best counts")
    args = parser.parse_args(argv)
    import torch

    from indexer.chunking import chunk_text
    from indexer.encoder import Encoder
    from indexer.onnx_encoder import OnnxEncoder
    from indexer.onnx_export import export_model
    from indexer.settings import IndexerSettings

    model_ref = args.model or IndexerSettings.from_env().model_ref
    cores = os.cpu_count() or 1
    reference = Encoder(model_ref, threads=1)
    paragraphs = [json.loads(line)["text"] for line in (args.data / "corpus.jsonl").open()]
    queries = [json.loads(line)["text"] for line in (args.data / "queries.jsonl").open()]
    passages = [
        text[span.start : span.end]
        for text in paragraphs
        for span in chunk_text(text, count_tokens=reference.count_tokens)
    ]
    cache = args.cache or Path(tempfile.mkdtemp(prefix="onnx-bench-"))
    export = export_model(reference, cache, precision="int8")
    counts = f"{len(passages)} passages, {len(paragraphs)} paragraphs, {len(queries)} queries"
    print(f"{counts}; {cores} cores; export in {export.directory}")

    singles: dict[str, TextEncoder] = {"sentence-transformers": reference}
    bulks: dict[str, TextEncoder] = {"sentence-transformers": reference}
    for precision in ("fp32", "int8"):
        singles[f"onnx-{precision}"] = OnnxEncoder(
            export.directory, model_ref=model_ref, precision=precision
        )
        bulks[f"onnx-{precision}"] = OnnxEncoder(
            export.directory, model_ref=model_ref, precision=precision, threads=cores
        )
    torch.set_num_threads(1)
    latency = query_latency_ms(singles, queries[: args.queries])
    print(f"query latency (ms): {latency}", flush=True)
    torch.set_num_threads(cores)
    rates = throughput(bulks, passages, rounds=args.rounds)
    rows = []
    expected = (
        rates["sentence-transformers"][0],
        reference.encode(queries),
        reference.encode(paragraphs),
    )
    encoded = {"sentence-transformers": expected}
    for name, encoder in bulks.items():
        if encoder is not reference:
            encoded[name] = (rates[name][0], encoder.encode(queries), encoder.encode(paragraphs))
        got = encoded[name]
        match = agreement(expected[:2], got[:2], extra_pairs=[(expected[2], got[2])])
        rows.append((name, *latency[name], rates[name][1], match))
    # As a build with SEARCH_PASSAGE_PRECISION=fp32 serves (queries int8); the default
    # since 2026-11-23, int8 on both sides, is the onnx-int8 row above.
    mixed = agreement(expected[:2], (encoded["onnx-fp32"][0], encoded["onnx-int8"][1]))
    rows.append(("int8 queries, fp32 passages", *latency["onnx-int8"], float("nan"), mixed))
    columns = ["encoder", "query p50 ms", "p95 ms", "passages/s", "cos min", "cos p01"]
    columns += ["cos mean", "same top-10 set", "same top-10 order", "overlap@10"]
    print("\n| " + " | ".join(columns) + " |\n|---" + "|--:" * (len(columns) - 1) + "|")
    for name, p50, p95, rate, m in rows:
        cells = [f"{p50:.2f}", f"{p95:.2f}", "-" if math.isnan(rate) else f"{rate:.1f}"]
        cells += [f"{m.cosine_min:.5f}"]
        cells += [f"{m.cosine_p01:.5f}", f"{m.cosine_mean:.5f}", f"{m.same_top_k_set:.3f}"]
        cells += [f"{m.same_top_k_order:.3f}", f"{m.overlap_at_k:.4f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    _print_footprints(model_ref, export)
    return 0


def _print_footprints(model_ref: str, export: ExportedModel, *, rounds: int = 3) -> None:
    """Median of `rounds` fresh processes each; the kinds take turns."""
    scripts = {
        f"query encoder, onnx {precision}": textwrap.dedent(f"""
            from pathlib import Path
            from indexer.query_encoder import open_query_encoder
            from indexer.onnx_encoder import OnnxEncoder
            OnnxEncoder(Path({str(export.directory)!r}), model_ref={model_ref!r},
                        precision={precision!r}, expected_sha256={sha256!r}).encode(["a query"])
        """)
        for precision, sha256 in sorted(export.sha256.items())
    }  # fmt: skip
    scripts["sentence-transformers"] = textwrap.dedent(f"""
        from indexer.encoder import Encoder
        Encoder({model_ref!r}, threads=1).encode(["a query"])
    """)  # fmt: skip
    runs: dict[str, list[Footprint]] = {name: [] for name in scripts}
    for _ in range(rounds):
        for name, script in scripts.items():
            runs[name].append(footprint(script))
    print("\n| process: import, load, encode one query | wall s | peak RSS MB |\n|---|--:|--:|")
    for name, results in runs.items():
        seconds = statistics.median(r.seconds for r in results)
        rss = statistics.median(r.peak_rss_mb for r in results)
        print(f"| {name} | {seconds:.2f} | {rss:.0f} |")


if __name__ == "__main__":
    sys.exit(main())
