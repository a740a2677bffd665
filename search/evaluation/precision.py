"""fp32 against int8, by `make eval`'s own harness: the rule the int8 defaults passed.

`python -m search.evaluation.precision [--data DIR ...] [--max-queries N]` (or
`make eval-precision`) evaluates every set twice with everything equal but the
precisions: a baseline (default fp32 queries, fp32 passages) and a candidate
(default the service's: int8 and int8, `SEARCH_ONNX_PRECISION` and
`SEARCH_PASSAGE_PRECISION`). Queries go through the ONNX export the manifest
names, opened by the engine as `serve` opens it; passages are embedded by the
build with the export asked for. It prints nDCG@10 per set, mode and query
language, the largest change, and whether the candidate stays within the
tolerance (0.005) of the baseline in every mode and language: the rule for
making int8 a default (issue "Fast queries", "Precision by measurement").

Each pair is written `QUERIES/PASSAGES` with QUERIES one of int8, fp32, torch
(the sentence-transformers model in-process) and PASSAGES one of int8, fp32.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.encoder import Encoder
from indexer.errors import IndexerError
from indexer.onnx_encoder import MODEL_FILE_BY_PRECISION
from indexer.settings import DEFAULT_ONNX_PRECISION, DEFAULT_PASSAGE_PRECISION, default_model_ref
from search.evaluation.beir import DataSetError
from search.evaluation.cli import load_data_sets
from search.evaluation.harness import EvalOptions, EvaluationResult, evaluate_data_set
from search.evaluation.variants import parse_variants

__all__ = [
    "DEFAULT_TOLERANCE",
    "Change",
    "Precisions",
    "changes",
    "check_measured",
    "comparison_markdown",
    "main",
    "ndcg_by_mode",
    "parse_precisions",
]

# The most nDCG@10 may fall, in any mode and query language, for int8 to be a default.
DEFAULT_TOLERANCE = 0.005
_MODES = "lexical,semantic,hybrid"
_SPLITS = ("all", "en", "es")

NdcgTable = Mapping[str, Mapping[str, float]]  # mode -> split ("all", "en", ...) -> nDCG@10


@dataclass(frozen=True, slots=True)
class Precisions:
    """What embeds queries (None: sentence-transformers in-process) and passages."""

    queries: str | None
    passages: str

    def __str__(self) -> str:
        return f"{self.queries or 'torch'}/{self.passages}"

    def options(self, base: EvalOptions) -> EvalOptions:
        return replace(base, query_precision=self.queries, passage_precision=self.passages)


def parse_precisions(text: str) -> Precisions:
    """`QUERIES/PASSAGES`, e.g. "int8/int8" or "torch/fp32"; `ValueError` naming the fix."""
    known = tuple(MODEL_FILE_BY_PRECISION)
    queries, slash, passages = text.strip().partition("/")
    if not slash or queries not in (*known, "torch") or passages not in known:
        raise ValueError(
            f"{text!r} is not QUERIES/PASSAGES: QUERIES one of {', '.join(known)}, torch; "
            f"PASSAGES one of {', '.join(known)} (e.g. int8/int8)."
        )
    return Precisions(queries=None if queries == "torch" else queries, passages=passages)


@dataclass(frozen=True, slots=True)
class Change:
    """One mode of one set: nDCG@10 per split, baseline and candidate."""

    set_name: str
    mode: str
    baseline: Mapping[str, float]
    candidate: Mapping[str, float]

    @property
    def largest(self) -> float:
        """The change of largest size over the splits (candidate - baseline), signed."""
        deltas = [self.candidate[split] - self.baseline[split] for split in self.baseline]
        return max(deltas, key=abs, default=0.0)

    @property
    def worst(self) -> float:
        """The largest fall over the splits, as a negative number (0 when none fell)."""
        deltas = [self.candidate[split] - self.baseline[split] for split in self.baseline]
        return min([0.0, *deltas])


def check_measured(result: EvaluationResult, pair: Precisions) -> None:
    """`ValueError` unless `pair` is what embedded the run: where an export fails, the
    build and the engine fall back (logged), and the comparison would compare nothing."""
    embedded = {"queries": result.query_encoder, "passages": result.passage_encoder}
    wanted = {
        "queries": f"onnx-{pair.queries}" if pair.queries else "sentence-transformers",
        "passages": f"onnx-{pair.passages}",
    }
    for use, backend in wanted.items():
        if embedded[use] != backend:
            raise ValueError(
                f"{result.data_set.name}: {use} were to be embedded by {backend}, but "
                f"{embedded[use]} embedded them (the export or its int8 file fell back; "
                "the log says why), so this comparison would not measure what it says."
            )


def ndcg_by_mode(result: EvaluationResult) -> dict[str, dict[str, float]]:
    """mode -> {"all": nDCG@10, "en": ..., "es": ...} of one evaluation."""
    table: dict[str, dict[str, float]] = {}
    for variant in result.variants:
        metrics = variant.metrics
        row = {"all": metrics.overall["ndcg@10"]}
        row.update({lang: values["ndcg@10"] for lang, values in metrics.by_language.items()})
        table[variant.variant.name] = row
    return table


def changes(set_name: str, baseline: NdcgTable, candidate: NdcgTable) -> list[Change]:
    """One `Change` per mode both runs have, on the splits both have."""
    rows = []
    for mode, before in baseline.items():
        after = candidate.get(mode)
        if after is None:
            continue
        splits = [split for split in before if split in after]
        rows.append(
            Change(
                set_name=set_name,
                mode=mode,
                baseline={split: before[split] for split in splits},
                candidate={split: after[split] for split in splits},
            )
        )
    return rows


def comparison_markdown(
    rows: Sequence[Change],
    *,
    baseline: Precisions,
    candidate: Precisions,
    tolerance: float = DEFAULT_TOLERANCE,
) -> str:
    """The table, then one verdict line: within `tolerance` everywhere or not, and where not."""

    def cells(values: Mapping[str, float]) -> str:
        return " / ".join(f"{values[split]:.4f}" for split in _SPLITS if split in values)

    lines = [
        f"| set | mode | {baseline}: all / en / es | {candidate}: all / en / es | largest change |",
        "| --- | --- | --- | --- | ---: |",
    ]
    for row in rows:
        same = all(abs(row.candidate[s] - row.baseline[s]) < 5e-5 for s in row.baseline)
        largest = "0" if same else f"{row.largest:+.4f}"
        lines.append(
            f"| {row.set_name} | {row.mode} | {cells(row.baseline)} | "
            f"{'=' if same else cells(row.candidate)} | {largest} |"
        )
    beyond = [row for row in rows if row.worst < -tolerance]
    worst = min(rows, key=lambda row: row.worst, default=None)
    if not rows:
        verdict = "nothing to compare"
    elif beyond:
        where = ", ".join(f"{row.set_name} {row.mode} ({row.worst:+.4f})" for row in beyond)
        verdict = f"{candidate} falls more than {tolerance} below {baseline} in: {where}"
    else:
        fall = f"largest fall {worst.worst:+.4f}, {worst.set_name} {worst.mode}" if worst else ""
        verdict = (
            f"{candidate} stays within {tolerance} of {baseline} in every mode and query "
            f"language ({fall or 'nothing fell'})"
        )
    return "\n".join([*lines, "", verdict, ""])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m search.evaluation.precision",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, nargs="+", action="extend", help="as make eval")
    parser.add_argument("--max-queries", type=int, help="an even slice per language")
    parser.add_argument("--baseline", default="fp32/fp32", help="QUERIES/PASSAGES")
    parser.add_argument(
        "--candidate",
        default=f"{DEFAULT_ONNX_PRECISION}/{DEFAULT_PASSAGE_PRECISION}",
        help="QUERIES/PASSAGES (default: the service's defaults)",
    )
    parser.add_argument("--modes", default=_MODES, help=f"as make eval (default {_MODES})")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("artifacts") / "eval" / "precision.json",
        help="the figures as JSON",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        if args.max_queries is not None and args.max_queries < 1:
            raise ValueError(f"--max-queries {args.max_queries} must be at least 1.")
        pairs = (parse_precisions(args.baseline), parse_precisions(args.candidate))
        if pairs[0] == pairs[1]:
            raise ValueError(f"--baseline and --candidate are both {pairs[0]}: nothing to compare.")
        base = EvalOptions(
            model_ref=default_model_ref(),
            variants=parse_variants(args.modes),
            max_queries=args.max_queries,
        )
        data_sets = load_data_sets(args.data)
        encoder = Encoder(base.model_ref, threads=1)  # builds (and exports) every index
        rows: list[Change] = []
        figures: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
        for data_set in data_sets:
            tables = []
            for pair in pairs:
                print(f"{data_set.name}, {pair} ...", file=sys.stderr, flush=True)
                result = evaluate_data_set(data_set, pair.options(base), encoder=encoder)
                check_measured(result, pair)
                tables.append(ndcg_by_mode(result))
            figures[data_set.name] = {
                str(pair): table for pair, table in zip(pairs, tables, strict=True)
            }
            rows += changes(data_set.name, tables[0], tables[1])
    except (DataSetError, ValueError, IndexerError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(comparison_markdown(rows, baseline=pairs[0], candidate=pairs[1]), end="")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    print(f"\nJSON: {args.out}\nwall time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
