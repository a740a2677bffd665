"""`python -m search.evaluation --data DIR`: parse flags, call the harness, print, save.

Exit codes: 0 done; 2 bad input (missing or malformed data directory, bad flag
value, model or translation unavailable), with a message saying what to fix.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from indexer.errors import IndexerError
from indexer.settings import default_model_ref
from search.evaluation.beir import DataSetError, load_beir
from search.evaluation.harness import EvalOptions, evaluate_data_set
from search.evaluation.languages import DEFAULT_DOC_LANG_PATTERN
from search.evaluation.report import to_markdown, write_json
from search.evaluation.variants import DEFAULT_VARIANTS, parse_variants

__all__ = ["main"]

_DEFAULT_OUT_DIR = Path("artifacts") / "eval"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m search.evaluation",
        description="Relevance evaluation of the search engine on a BEIR-layout data set.",
    )
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        help="folder with corpus.jsonl, queries.jsonl, qrels.tsv",
    )
    parser.add_argument(
        "--out", type=Path, help="JSON report path (default: artifacts/eval/<set-name>.json)"
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
        "--doc-lang",
        default=DEFAULT_DOC_LANG_PATTERN,
        help="regex with a named group 'lang' taking a document's language from its id "
        f"(default {DEFAULT_DOC_LANG_PATTERN!r}); a 'lang' field in corpus.jsonl wins",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        variants = parse_variants(args.modes)
        if args.max_queries is not None and args.max_queries < 1:
            raise ValueError(f"--max-queries {args.max_queries} must be at least 1.")
        data_set = load_beir(args.data)
        options = EvalOptions(
            model_ref=args.model or default_model_ref(),
            variants=variants,
            max_queries=args.max_queries,
            translation=args.translation,
            query_translation=args.query_translation,
            doc_lang_pattern=args.doc_lang,
        )
        result = evaluate_data_set(data_set, options, log=_log)
    except (DataSetError, ValueError, IndexerError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    out = args.out or _DEFAULT_OUT_DIR / f"{data_set.name}.json"
    print(to_markdown(result), end="")
    write_json(result, out)
    print(f"\nJSON: {out}; wall time {time.perf_counter() - started:.1f} s")
    return 0


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
