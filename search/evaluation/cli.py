"""`python -m search.evaluation [--data DIR ...]`: parse flags, call the harness, print, save.

Several sets can be evaluated in one run (`--data A B`, or `--data A --data B`);
without `--data`, the default sets are the ones present of `DEFAULT_DATA_DIRS`
(XQuAD beside the checkout, the news set in this package). Each set gets its own
tables and JSON file, then one summary table compares them per query language.
Every set is loaded and checked before any is indexed, so a bad path fails at once.

Exit codes: 0 done; 2 bad input (missing or malformed data directory, bad flag
value, model or translation unavailable), with a message saying what to fix.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from indexer.encoder import Encoder
from indexer.errors import IndexerError
from indexer.onnx_encoder import MODEL_FILE_BY_PRECISION
from indexer.settings import DEFAULT_ONNX_PRECISION, DEFAULT_PASSAGE_PRECISION, default_model_ref
from search.evaluation.beir import DataSet, DataSetError, load_beir
from search.evaluation.harness import EvalOptions, EvaluationResult, evaluate_data_set
from search.evaluation.languages import DEFAULT_DOC_LANG_PATTERN
from search.evaluation.report import summary_markdown, to_markdown, write_json
from search.evaluation.variants import DEFAULT_VARIANTS, parse_variants

__all__ = ["DEFAULT_DATA_DIRS", "NEWS_DATA_DIR", "load_data_sets", "main"]

_DEFAULT_OUT_DIR = Path("artifacts") / "eval"
_REPO_ROOT = Path(__file__).resolve().parents[2]
NEWS_DATA_DIR = Path(__file__).resolve().parent / "data" / "news"
DEFAULT_DATA_DIRS = (_REPO_ROOT.parent / "shared" / "eval" / "xquad" / "bilingual", NEWS_DATA_DIR)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m search.evaluation",
        description="Relevance evaluation of the search engine on a BEIR-layout data set.",
    )
    parser.add_argument(
        "--data",
        type=Path,
        nargs="+",
        action="extend",
        help="folder(s) with corpus.jsonl, queries.jsonl, qrels.tsv (default: those of "
        + ", ".join(str(path) for path in DEFAULT_DATA_DIRS)
        + " that exist)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="JSON report path for one set, a folder for several "
        "(default: artifacts/eval/<set-name>.json)",
    )
    parser.add_argument(
        "--modes",
        default="all",
        help="comma-separated: lexical, semantic, hybrid, hybrid-rrf<K>, hybrid-w<alpha>; "
        f"default all = {','.join(v.name for v in DEFAULT_VARIANTS)}",
    )
    parser.add_argument(
        "--max-queries",
        type=int,
        help="evaluate an even, deterministic slice: N // languages queries per language",
    )
    parser.add_argument(
        "--translation",
        choices=("auto", "on", "off"),
        default="auto",
        help="Apertium translation at index time (default auto: when installed)",
    )
    parser.add_argument(
        "--query-translation",
        choices=("auto", "on", "off"),
        default="auto",
        help="Apertium translation of queries (off: the engine gets no translator)",
    )
    parser.add_argument("--model", help="sentence-transformers model (default: the bundled one)")
    parser.add_argument(
        "--query-precision",
        choices=(*MODEL_FILE_BY_PRECISION, "torch"),
        default=DEFAULT_ONNX_PRECISION,
        help="what embeds the queries: the ONNX export in int8 or fp32, opened by the "
        "engine from the manifest as `serve` does, or torch: the sentence-transformers "
        f"model in-process (default {DEFAULT_ONNX_PRECISION}, the service's)",
    )
    parser.add_argument(
        "--passage-precision",
        choices=tuple(MODEL_FILE_BY_PRECISION),
        default=DEFAULT_PASSAGE_PRECISION,
        help="the ONNX export the build embeds passages with "
        f"(default {DEFAULT_PASSAGE_PRECISION})",
    )
    parser.add_argument(
        "--doc-lang",
        default=DEFAULT_DOC_LANG_PATTERN,
        help="regex with a named group 'lang' taking a document's language from its id "
        f"(default {DEFAULT_DOC_LANG_PATTERN!r}); a 'lang' field in corpus.jsonl wins",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    results: list[EvaluationResult] = []
    try:
        variants = parse_variants(args.modes)
        if args.max_queries is not None and args.max_queries < 1:
            raise ValueError(f"--max-queries {args.max_queries} must be at least 1.")
        data_sets = load_data_sets(args.data)
        options = EvalOptions(
            model_ref=args.model or default_model_ref(),
            variants=variants,
            max_queries=args.max_queries,
            translation=args.translation,
            query_translation=args.query_translation,
            doc_lang_pattern=args.doc_lang,
            query_precision=None if args.query_precision == "torch" else args.query_precision,
            passage_precision=args.passage_precision,
        )
        encoder = Encoder(options.model_ref, threads=1)  # loaded once for every set
        for data_set in data_sets:
            result = evaluate_data_set(data_set, options, encoder=encoder, log=_log)
            out = _out_path(args.out, data_set, several=len(data_sets) > 1)
            print(to_markdown(result), end="")
            write_json(result, out)
            print(f"\nJSON: {out}\n")
            results.append(result)
    except (DataSetError, ValueError, IndexerError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if len(results) > 1:
        print(summary_markdown(results), end="")
    print(f"\nwall time {time.perf_counter() - started:.1f} s")
    return 0


def load_data_sets(paths: list[Path] | None) -> list[DataSet]:
    """Every requested set, loaded and checked; the default sets that exist if none."""
    if paths is None:
        paths = [path for path in DEFAULT_DATA_DIRS if path.is_dir()]
        if not paths:
            raise DataSetError(
                "None of the default sets is present ("
                + ", ".join(str(path) for path in DEFAULT_DATA_DIRS)
                + "); pass --data DIR."
            )
    data_sets = [load_beir(path) for path in paths]
    names = [data_set.name for data_set in data_sets]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataSetError(
            f"--data names the set {', '.join(repeated)} more than once (their reports "
            "would overwrite each other); pass each folder once."
        )
    return data_sets


def _out_path(out: Path | None, data_set: DataSet, *, several: bool) -> Path:
    if out is None:
        return _DEFAULT_OUT_DIR / f"{data_set.name}.json"
    return out / f"{data_set.name}.json" if several else out


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
