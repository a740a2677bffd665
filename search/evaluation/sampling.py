"""A deterministic slice of the queries with every language equally represented.

`--max-queries N` (and the regression guard in `make test`) evaluate N // L queries
of each of the L query languages, spread evenly over each language's queries in file
order (every k-th one), not the first ones: XQuAD's queries come grouped by article,
so the first N would all be about a handful of topics. The XQuAD languages are
parallel files, so the English and Spanish picks are translations of each other and
the two languages' numbers compare like with like.
"""

from __future__ import annotations

from collections.abc import Sequence

from search.evaluation.beir import Query

__all__ = ["UNKNOWN_LANGUAGE", "query_language", "select_queries"]

UNKNOWN_LANGUAGE = "und"  # BCP 47 "undetermined": a query without a `lang`


def query_language(query: Query) -> str:
    return query.lang.lower() if query.lang else UNKNOWN_LANGUAGE


def select_queries(queries: Sequence[Query], max_queries: int | None) -> list[Query]:
    """All `queries` when `max_queries` is None or not smaller; else an even slice per language.

    Each language gets `max_queries // languages` queries (all of its own if it has
    fewer), so the total can be slightly under `max_queries`. The result keeps file order.
    """
    if max_queries is not None and max_queries < 1:
        raise ValueError(f"max_queries must be >= 1, got {max_queries!r}.")
    if max_queries is None or max_queries >= len(queries):
        return list(queries)
    by_language: dict[str, list[int]] = {}
    for position, query in enumerate(queries):
        by_language.setdefault(query_language(query), []).append(position)
    per_language = max(1, max_queries // len(by_language))
    chosen: list[int] = []
    for positions in by_language.values():
        take = min(per_language, len(positions))
        chosen += [positions[(step * len(positions)) // take] for step in range(take)]
    return [queries[position] for position in sorted(chosen)]
