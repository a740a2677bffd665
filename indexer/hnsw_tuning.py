"""Choose the HNSW settings by measurement: graphs built with other settings over one
generation's rows, each searched at several beam widths, against the exact scan.

    python -m indexer.hnsw_tuning --index DIR --questions FILE.jsonl
        [--graphs i8:16,i8:32,f16:16] [--expansion 256,512,1024] [--queries 300]

`--graphs`: dtype:connectivity pairs (the graph's copy of the vectors, and edges
per node, M); each is built with the default `expansion_add` into a scratch folder
in the index directory, removed afterwards. `--expansion`: `expansion_search`
values (ef, the search beam; it changes without a rebuild). Questions are encoded
by the index's own query encoder (cached in the index directory). Prints one row
per graph and beam: build seconds (every core), graph file MB, recall@10 and
recall@100 against the exact scan, and the search's p50/p95 ms. Numbers, not
assertions; the defaults in `indexer.vector_index` cite them.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from indexer.ann_recall import DEPTH, GenerationVectors, exact_answers, graph_recall
from indexer.reference_index import encoded_questions, question_texts
from indexer.vector_index import INDEX_FILE, HnswParams, update_vector_index

__all__ = ["main", "parse_graphs"]

_SCRATCH = "hnsw-tuning"


def parse_graphs(text: str) -> list[HnswParams]:
    """ "i8:16,f16:32" -> the default settings with those dtypes and connectivities."""
    graphs = []
    for spec in text.split(","):
        dtype, _, connectivity = spec.strip().partition(":")
        if dtype not in ("i8", "f16", "f32") or not connectivity.isdigit():
            raise ValueError(f"{spec!r} is not dtype:connectivity (i8, f16 or f32; e.g. i8:16)")
        graphs.append(HnswParams(dtype=dtype, connectivity=int(connectivity)))
    return graphs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer.hnsw_tuning", description=__doc__)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True, help="JSONL with a text field")
    parser.add_argument("--graphs", default="i8:16,i8:32,f16:16")
    parser.add_argument("--expansion", default="256,512,1024")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args(argv)
    graphs = parse_graphs(args.graphs)
    expansions = [int(value) for value in args.expansion.split(",")]
    queries = encoded_questions(args.index, question_texts(args.questions)[-args.queries :])
    generation = GenerationVectors.live(args.index)
    live = ~generation.deleted
    exact = exact_answers(generation.searcher(generation.exact_info()), queries)
    print(
        f"{args.index}: {int(live.sum()):,} live rows; {len(queries)} questions; exact scan "
        f"p50 {exact.ms[0]:.1f} ms, p95 {exact.ms[1]:.1f} ms; k = {DEPTH}",
        flush=True,
    )
    print("| dtype | M | build s | graph MB | ef | recall@10 | recall@100 | p50 / p95 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |", flush=True)
    scratch = generation.directory / _SCRATCH
    try:
        for params in graphs:
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir()
            started = time.perf_counter()
            info = update_vector_index(
                generation.vectors, live, scratch, base=None, first_new_row=0, threshold=0,
                params=params,
            )  # fmt: skip
            seconds = time.perf_counter() - started
            megabytes = (scratch / INDEX_FILE).stat().st_size / 1e6
            tuned = GenerationVectors(scratch, info, generation.vectors, generation.deleted)
            for expansion in expansions:
                searcher = tuned.searcher(tuned.with_expansion(expansion))
                figures = graph_recall(searcher, queries, exact)
                print(
                    f"| {params.dtype} | {params.connectivity} | {seconds:.0f} | "
                    f"{megabytes:.0f} | {expansion} | {figures.recall_at_10:.4f} | "
                    f"{figures.recall_at_depth:.4f} | {figures.ms[0]:.2f} / {figures.ms[1]:.2f} |",
                    flush=True,
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
