"""Relevance evaluation: `python -m search.evaluation --data DIR [DIR ...]` (or `make eval`).

Indexes a BEIR-layout set with the project's own indexer, runs every query through
the real `SearchEngine` in each mode and fusion setting, and scores the rankings
with ranx. Nothing in the product imports this package (a test checks it). Two sets
by default: XQuAD (`shared/eval/xquad/bilingual`, beside the checkout) and the
hand-made bilingual news set in `data/news/` (see its README).

Modules: `beir` (loading), `languages` (document languages), `sampling` (query
slices), `variants` (modes and fusion settings), `run` (index and query),
`metrics` (ranx), `harness` (one evaluation end to end), `report` (markdown, JSON),
`cli` (flags and exit codes).

How the XQuAD numbers relate to published ones
----------------------------------------------
MTEB's XQuADRetrieval is monolingual: 240 paragraphs of one language, one relevant
paragraph per question. Published nDCG@10 (English / Spanish): BM25 0.965 / 0.952,
all-MiniLM-L6-v2 0.944 / 0.632.

Our set (`shared/eval/xquad/bilingual`) is a different and harder task: 480
paragraphs in both languages, and every question has two relevant paragraphs, its
own and the parallel translation. nDCG@10 then wants both at the top, so it mixes
monolingual and cross-lingual skill: a system that puts its own-language paragraph
first and never finds the other scores only 1 / (1 + 1/log2 3) = 0.613. The main
nDCG@10, Recall@10 and MRR@10 are therefore not comparable with MTEB's figures.

The comparable column is "mono": each ranking filtered to the query's language and
judged on the own-language paragraph only. Still not identical (BM25 statistics and
the embedding pivot come from a bilingual index, and query translation adds
terms), but close. Full set, 2026-11-21, translation on: lexical mono nDCG@10
0.957 / 0.939 against BM25's 0.965 / 0.952; semantic 0.949 / 0.889 against
MiniLM's 0.944 / 0.632. The Spanish gap closes because Spanish passages and
queries are embedded through their Apertium English translation (translate-test);
with translation off (150-query slice) semantic Spanish mono nDCG@10 is 0.652, in
line with the published 0.632.

Latencies are wall times of `SearchEngine.search` with limit=100 (needed for
Recall@100), cold caches, without snippets (`SearchRequest.highlight=False`):
retrieval and fusion only. `make bench` measures what the API and page pay.
"""

from search.evaluation.beir import CorpusDoc, DataSet, DataSetError, Query, load_beir
from search.evaluation.harness import (
    EvalOptions,
    EvaluationResult,
    VariantResult,
    evaluate_data_set,
)
from search.evaluation.metrics import SplitMetrics, evaluate_rankings, evaluate_splits
from search.evaluation.variants import DEFAULT_VARIANTS, Variant, parse_variants

__all__ = [
    "DEFAULT_VARIANTS",
    "CorpusDoc",
    "DataSet",
    "DataSetError",
    "EvalOptions",
    "EvaluationResult",
    "Query",
    "SplitMetrics",
    "Variant",
    "VariantResult",
    "evaluate_data_set",
    "evaluate_rankings",
    "evaluate_splits",
    "load_beir",
    "parse_variants",
]
