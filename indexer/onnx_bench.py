"""Measure the ONNX encoder against sentence-transformers: agreement and speed.

    python -m indexer.onnx_bench --data ../shared/eval/xquad/bilingual [--model REF]
                                 [--cache DIR] [--queries N]

On the XQuAD corpus: its paragraphs chunked as the build chunks them (passages),
the paragraphs whole (some exceed the model's 256 tokens: truncation), and the
questions. Prints, for sentence-transformers, ONNX fp32 and ONNX int8: cosine to
sentence-transformers, top-10 agreement by exact search of the questions over the
passages, query latency (one query per call, 1 thread), passage throughput (all
cores, batch 32), and the start-up time and peak RSS of a process that imports
the query encoder and encodes one query. Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
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


def query_latency_ms(encoder: TextEncoder, queries: Sequence[str]) -> tuple[float, float]:
    """(p50, p95) milliseconds of `encode([query])`, after a warm-up call."""
    encoder.encode(["warm up"])
    timings = []
    for query in queries:
        start = time.perf_counter()
        encoder.encode([query])
        timings.append((time.perf_counter() - start) * 1000)
    cut = statistics.quantiles(timings, n=20)
    return statistics.median(timings), cut[18]


def throughput(
    encoder: TextEncoder, texts: Sequence[str], *, batch_size: int = 32
) -> tuple[Vectors, float]:
    """The vectors of one `encode` call over all `texts`, and texts per second
    (after a one-batch warm-up)."""
    encoder.encode(list(texts[:batch_size]), batch_size=batch_size)
    start = time.perf_counter()
    vectors = encoder.encode(list(texts), batch_size=batch_size)
    return vectors, len(texts) / (time.perf_counter() - start)


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

    rows = []
    expected: tuple[Vectors, Vectors, Vectors] | None = None
    for name in ("sentence-transformers", "onnx-fp32", "onnx-int8"):
        single: TextEncoder = reference
        bulk: TextEncoder = reference
        if name != "sentence-transformers":
            precision = name.removeprefix("onnx-")
            single = OnnxEncoder(export.directory, model_ref=model_ref, precision=precision)
            bulk = OnnxEncoder(
                export.directory, model_ref=model_ref, precision=precision, threads=cores
            )
        torch.set_num_threads(1)
        p50, p95 = query_latency_ms(single, queries[: args.queries])
        torch.set_num_threads(cores)
        passage_vectors, rate = throughput(bulk, passages)
        got = (passage_vectors, bulk.encode(queries), bulk.encode(paragraphs))
        expected = expected or got
        match = agreement(expected[:2], got[:2], extra_pairs=[(expected[2], got[2])])
        rows.append((name, p50, p95, rate, match))
        print(
            f"{name}: query p50 {p50:.2f} ms, p95 {p95:.2f} ms; {rate:.1f} passages/s", flush=True
        )
    columns = ["encoder", "query p50 ms", "p95 ms", "passages/s", "cos min", "cos p01"]
    columns += ["cos mean", "same top-10 set", "same top-10 order", "overlap@10"]
    print("\n| " + " | ".join(columns) + " |\n|---" + "|--:" * (len(columns) - 1) + "|")
    for name, p50, p95, rate, m in rows:
        cells = [f"{p50:.2f}", f"{p95:.2f}", f"{rate:.1f}", f"{m.cosine_min:.5f}"]
        cells += [f"{m.cosine_p01:.5f}", f"{m.cosine_mean:.5f}", f"{m.same_top_k_set:.3f}"]
        cells += [f"{m.same_top_k_order:.3f}", f"{m.overlap_at_k:.4f}"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    _print_footprints(model_ref, export)
    return 0


def _print_footprints(model_ref: str, export: ExportedModel) -> None:
    results = {
        f"query encoder, onnx {precision}": footprint(textwrap.dedent(f"""
            from pathlib import Path
            from indexer.query_encoder import open_query_encoder
            from indexer.onnx_encoder import OnnxEncoder
            OnnxEncoder(Path({str(export.directory)!r}), model_ref={model_ref!r},
                        precision={precision!r}, expected_sha256={sha256!r}).encode(["a query"])
        """))
        for precision, sha256 in sorted(export.sha256.items())
    }  # fmt: skip
    results["sentence-transformers"] = footprint(textwrap.dedent(f"""
        from indexer.encoder import Encoder
        Encoder({model_ref!r}, threads=1).encode(["a query"])
    """))  # fmt: skip
    print("\n| process: import, load, encode one query | wall s | peak RSS MB |\n|---|--:|--:|")
    for name, result in results.items():
        print(f"| {name} | {result.seconds:.2f} | {result.peak_rss_mb:.0f} |")


if __name__ == "__main__":
    sys.exit(main())
