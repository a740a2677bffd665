"""Choose the approximate vector index by measurement: IVF lists or HNSW graphs built
with other settings over one generation's rows, each searched at several widths,
against the exact scan.

    python -m indexer.ann_tuning --index DIR --questions FILE.jsonl
        [--graphs live,ivf,ivf:2048,i8:48:256] [--expansion 64,128,256] [--queries 300]

`--graphs`: `live` (the index's own, no build); `ivf[:lists]` (faiss IVF with
8-bit codes; lists default to `indexer.ivf_lists.default_lists`); or
dtype:M[:expansion_add] (a usearch HNSW graph: its copy of the vectors, edges per
node, and efConstruction, default 256). Each is built into a scratch folder in
the index directory, removed afterwards. `--expansion`: the search width, which
changes without a rebuild: probes (lists scanned) for IVF, ef (the beam) for a
graph. Questions are encoded by the index's own query encoder (cached in the
index directory). Prints one row per index and width: build seconds (every
core), file MB, recall@10 and recall@100 against the exact scan, and the
search's p50/p95 ms. Numbers, not assertions; the defaults in
`indexer.vector_index` and `indexer.ivf_lists` cite them.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import time
from pathlib import Path

from indexer.ann_recall import DEPTH, GenerationVectors, exact_answers, graph_recall
from indexer.reference_index import encoded_questions, question_texts
from indexer.vector_index import HnswParams, IvfParams, update_vector_index

__all__ = ["main", "parse_graphs"]

_SCRATCH = "ann-tuning"


def parse_graphs(text: str) -> list[HnswParams | IvfParams | None]:
    """`live,ivf:4096,i8:16,f16:32:256` -> None (the index's own), IVF settings with
    those lists, then HNSW settings with those dtypes, connectivities and
    (optionally) `expansion_add`s."""
    graphs: list[HnswParams | IvfParams | None] = []
    for spec in text.split(","):
        if spec.strip() == "live":
            graphs.append(None)
            continue
        kind, _, lists = spec.strip().partition(":")
        if kind == "ivf":
            if lists and not lists.isdigit():
                raise ValueError(f"{spec!r} is not ivf[:lists] (e.g. ivf or ivf:4096)")
            graphs.append(IvfParams(lists=int(lists or 0)))
            continue
        dtype, *numbers = spec.strip().split(":")
        if dtype not in ("i8", "f16", "f32") or not 1 <= len(numbers) <= 2:
            raise ValueError(f"{spec!r} is not dtype:M[:expansion_add] (e.g. i8:16 or f16:32:256)")
        if not all(number.isdigit() for number in numbers):
            raise ValueError(f"{spec!r}: M and expansion_add are whole numbers")
        params = HnswParams(dtype=dtype, connectivity=int(numbers[0]))
        if len(numbers) == 2:
            params = dataclasses.replace(params, expansion_add=int(numbers[1]))
        graphs.append(params)
    return graphs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indexer.ann_tuning", description=__doc__)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True, help="JSONL with a text field")
    parser.add_argument("--graphs", default="live")
    parser.add_argument("--expansion", default="64,128,256")
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
    print(
        "| index | build s | file MB | width | recall@10 | recall@100 | 10th cosine gap "
        "| p50 / p95 ms |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |", flush=True)
    scratch = generation.directory / _SCRATCH
    try:
        for params in graphs:
            tuned, seconds = _graph(generation, params, scratch)
            assert tuned.info.file is not None
            megabytes = (tuned.directory / tuned.info.file).stat().st_size / 1e6
            built = "-" if seconds is None else f"{seconds:.0f}"
            for expansion in expansions:
                widened = tuned.with_expansion(expansion)
                figures = graph_recall(tuned.searcher(widened), queries, exact)
                print(
                    f"| {widened.describe()} | {built} | {megabytes:.0f} | {expansion} | "
                    f"{figures.recall_at_10:.4f} | "
                    f"{figures.recall_at_depth:.4f} | {figures.tenth_gap:.4f} | "
                    f"{figures.ms[0]:.2f} / {figures.ms[1]:.2f} |",
                    flush=True,
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


def _graph(
    generation: GenerationVectors, params: HnswParams | IvfParams | None, scratch: Path
) -> tuple[GenerationVectors, float | None]:
    """The generation's own index (`params` None), or one built over its live rows
    with `params` into `scratch`; with the seconds the build took."""
    if params is None:
        if generation.info.kind == "exact":
            raise SystemExit(f"{generation.directory} has only the exact scan")
        return generation, None
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    started = time.perf_counter()
    info = update_vector_index(
        generation.vectors, ~generation.deleted, scratch, base=None, first_new_row=0,
        threshold=0, params=params,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    return GenerationVectors(scratch, info, generation.vectors, generation.deleted), seconds


if __name__ == "__main__":
    raise SystemExit(main())
