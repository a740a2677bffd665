"""The evaluation as a markdown table (stdout) and as JSON (a file), from one result.

Both are built from the same `EvaluationResult`; the JSON holds everything the table
shows plus the settings and counts needed to reproduce or compare a run.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from search.evaluation.harness import EvaluationResult, VariantResult
from search.evaluation.metrics import CUTOFF_METRICS, MONOLINGUAL_METRICS
from search.evaluation.sampling import query_language

__all__ = ["summary_markdown", "to_json", "to_markdown", "write_json"]

_LABELS = {"ndcg@10": "nDCG@10", "recall@10": "R@10", "recall@100": "R@100", "mrr@10": "MRR@10"}


def to_json(result: EvaluationResult) -> dict[str, Any]:
    manifest = result.manifest
    options = result.options
    queries_by_language = Counter(query_language(query) for query in result.queries)
    judged = result.data_set.judged_queries()
    corpus_ids = {doc.id for doc in result.data_set.corpus}
    evaluated_ids = {query.id for query in result.queries}
    judgements = [
        doc
        for query, docs in result.data_set.qrels.items()
        if query in evaluated_ids
        for doc in docs
    ]
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_set": {"name": result.data_set.name, "path": str(result.data_set.path)},
        "settings": {
            "model": asdict(manifest.model),
            "translation": {
                "index": {"setting": options.translation, **asdict(manifest.translation)},
                "query": {
                    "setting": options.query_translation,
                    "enabled": result.query_translation,
                },
            },
            "chunking": manifest.chunking,
            "embedding": {
                "queries": result.query_encoder,
                "passages": result.passage_encoder,
                "onnx": asdict(manifest.onnx) if manifest.onnx else None,
            },
            "engine": asdict(options.engine),
            "request": {"limit": options.limit, "per_article": 1},
            "max_queries": options.max_queries,
            "doc_lang_pattern": options.doc_lang_pattern,
        },
        "counts": {
            "documents": len(result.data_set.corpus),
            "documents_by_language": dict(sorted(Counter(result.doc_languages.values()).items())),
            "passages": manifest.passages,
            "passages_by_language": manifest.passages_by_language,
            "queries_in_file": len(result.data_set.queries),
            "judged_queries": len(judged),
            "evaluated_queries": len(result.queries),
            "evaluated_by_language": dict(sorted(queries_by_language.items())),
            "judgements": len(judgements),
            "judged_documents_not_in_corpus": sum(doc not in corpus_ids for doc in judgements),
            "build_problems": result.build_problems,
        },
        "timing": {
            "build_seconds": result.build_seconds,
            "total_seconds": result.total_seconds,
        },
        "variants": [_variant_json(variant) for variant in result.variants],
    }


def _variant_json(result: VariantResult) -> dict[str, Any]:
    metrics = result.metrics
    return {
        "name": result.variant.name,
        **result.variant.settings(),
        "metrics": {
            "overall": metrics.overall,
            "by_language": metrics.by_language,
            "monolingual": metrics.monolingual,
            "cross_lingual": metrics.cross_lingual,
        },
        "latency_ms": result.latency_ms,
        "seconds": result.seconds,
        "errors": result.errors,
        "notes": result.notes,
    }


def write_json(result: EvaluationResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n", "utf-8")


def to_markdown(result: EvaluationResult) -> str:
    """A summary line, the main table (one row per variant) and a per-language table."""
    manifest = result.manifest
    languages = sorted(result.variants[0].metrics.by_language) if result.variants else []
    directions = sorted(
        {name for variant in result.variants for name in variant.metrics.cross_lingual}
    )
    index_translation = (
        f"on (pivot {manifest.translation.embedding_pivot})"
        if manifest.translation.enabled
        else f"off ({manifest.translation.reason})"
    )
    lines = [
        f"## {result.data_set.name}: {len(result.queries)} queries, "
        f"{len(result.data_set.corpus)} documents ({manifest.passages} passages)",
        "",
        f"Model {manifest.model.name}; translation at index time {index_translation}, "
        f"at query time {'on' if result.query_translation else 'off'}; "
        f"chunking {manifest.chunking}; {result.options.limit} results per query, "
        "one passage per document. Queries embedded by "
        f"{result.query_encoder}, passages by {result.passage_encoder}.",
        "",
    ]
    header = ["mode", *(_LABELS[name] for name in CUTOFF_METRICS)]
    header += [f"nDCG@10 {language}" for language in languages]
    header += [f"xR@10 {direction.replace('->', '→')}" for direction in directions]
    header += ["p50 ms", "p95 ms"]
    lines += _table_header(header)
    for variant in result.variants:
        metrics = variant.metrics
        cells = [variant.variant.name, *(_number(metrics.overall[n]) for n in CUTOFF_METRICS)]
        cells += [_number(metrics.by_language[lang]["ndcg@10"]) for lang in languages]
        cells += [
            _number(metrics.cross_lingual[d]["recall@10"]) if d in metrics.cross_lingual else "–"
            for d in directions
        ]
        cells += [f"{variant.latency_ms['median']:.1f}", f"{variant.latency_ms['p95']:.1f}"]
        lines.append(_row(cells))
    lines += [
        "",
        "By query language. mono: the ranking filtered to the query's language, judged "
        "on the relevant document in that language (a monolingual corpus, as in MTEB).",
        "",
    ]
    header = ["mode", "lang", *(_LABELS[name] for name in CUTOFF_METRICS)]
    header += [f"mono {_LABELS[name]}" for name in MONOLINGUAL_METRICS]
    lines += _table_header(header, text_columns=2)
    for variant in result.variants:
        for language in languages:
            own = variant.metrics.monolingual.get(language, {})
            by_language = variant.metrics.by_language[language]
            cells = [variant.variant.name, language]
            cells += [_number(by_language[name]) for name in CUTOFF_METRICS]
            cells += [_number(own[name]) if name in own else "–" for name in MONOLINGUAL_METRICS]
            lines.append(_row(cells))
    lines += ["", *_warnings(result)]
    lines.append(
        f"Index built in {result.build_seconds:.1f} s; whole evaluation "
        f"{result.total_seconds:.1f} s."
    )
    return "\n".join(lines) + "\n"


def summary_markdown(results: list[EvaluationResult]) -> str:
    """One table over several sets: nDCG@10 per set and query language, one row per mode.

    A mode a set did not run shows "–". Read it for the acceptance questions: is
    hybrid at least as good as its best leg on every set, and Spanish as English?
    """
    columns = [
        (result, language)
        for result in results
        for language in sorted(result.variants[0].metrics.by_language if result.variants else ())
    ]
    names = list(dict.fromkeys(v.variant.name for result in results for v in result.variants))
    lines = ["## Summary: nDCG@10 by set and query language", ""]
    lines += _table_header(["mode", *(f"{r.data_set.name} {lang}" for r, lang in columns)])
    for name in names:
        cells = [name]
        for result, language in columns:
            variant = next((v for v in result.variants if v.variant.name == name), None)
            cells.append(
                _number(variant.metrics.by_language[language]["ndcg@10"]) if variant else "–"
            )
        lines.append(_row(cells))
    return "\n".join(lines) + "\n"


def _warnings(result: EvaluationResult) -> list[str]:
    lines = []
    for variant in result.variants:
        if variant.errors:
            lines.append(
                f"Warning: {variant.variant.name}: the engine rejected {len(variant.errors)} "
                "queries (scored 0; see errors in the JSON)."
            )
        failed = sum(count for note, count in variant.notes.items() if "failed" in note)
        if failed:
            lines.append(
                f"Warning: {variant.variant.name}: query translation failed for {failed} "
                "queries; those were searched without it."
            )
    if result.build_problems:
        lines.append(f"Warning: {len(result.build_problems)} input problems while indexing.")
    return [*lines, ""] if lines else []


def _table_header(names: list[str], *, text_columns: int = 1) -> list[str]:
    """The header row and the alignment row: text columns left, numbers right."""
    return [_row(names), _row(["---"] * text_columns + ["---:"] * (len(names) - text_columns))]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _number(value: float) -> str:
    return f"{value:.3f}"
