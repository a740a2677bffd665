"""The query plan: everything one request decided before any retriever runs.

Built once per request by the engine, then handed unchanged to every leg, so the
legs share one shape (`Retriever.search(plan, k) -> list[Hit]`) and nothing is
computed twice: the query is parsed once, translated once, embedded once, and the
rows that quoted phrases require and -exclusions forbid are read from tantivy once
and used by both legs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from search.filters import SearchFilters
from search.models import Hit
from search.query_parser import ParsedQuery

__all__ = ["DEFAULT_TRANSLATED_BOOST", "QueryPlan", "Retriever", "RowConstraints"]

# Weight of a match through translation relative to an original-language match:
# best lexical nDCG@10 of 0.3/0.5/0.7/1.0 on an XQuAD sample, and below 1 so that
# original-language matches stay first (README, "What we learned").
DEFAULT_TRANSLATED_BOOST = 0.7


@dataclass(frozen=True, slots=True)
class RowConstraints:
    """What quoted phrases and -exclusions allow, as passage rows.

    `required`: rows containing every quoted phrase, or None when the query has no
    phrase (everything allowed). `excluded`: rows containing an excluded word or
    phrase. Both retrievers honour them, so "quoted" and -excluded hold in every
    mode, not only for keyword matches.
    """

    required: frozenset[int] | None = None
    excluded: frozenset[int] = frozenset()

    @property
    def active(self) -> bool:
        return self.required is not None or bool(self.excluded)

    def row_mask(self, rows: int) -> npt.NDArray[np.bool_] | None:
        """Allowed rows as a boolean mask of length `rows`; None when unconstrained."""
        if not self.active:
            return None
        if self.required is None:
            mask = np.ones(rows, dtype=bool)
        else:
            mask = np.zeros(rows, dtype=bool)
            mask[np.fromiter(self.required, dtype=np.int64, count=len(self.required))] = True
        if self.excluded:
            mask[np.fromiter(self.excluded, dtype=np.int64, count=len(self.excluded))] = False
        return mask


@dataclass(frozen=True, slots=True)
class QueryPlan:
    parsed: ParsedQuery
    # target language -> the query's machine translation into it ("en" -> English)
    translations: Mapping[str, str] = field(default_factory=dict)
    filters: SearchFilters = field(default_factory=SearchFilters)
    constraints: RowConstraints = field(default_factory=RowConstraints)
    # The query embedding (unit length), when a semantic leg runs; None otherwise.
    vector: npt.NDArray[np.float32] | None = None
    # Weight of matches through translation, relative to original-language matches.
    translated_boost: float = DEFAULT_TRANSLATED_BOOST
    # Also search passages' own translations (*_mt fields) with the original query.
    use_passage_translations: bool = True
    # The language the query reads as ("en", "es"), when known
    # (`QueryTranslations.language`): its stop words are searched in no field
    # (`search.function_words`).
    query_language: str | None = None


class Retriever(Protocol):
    """One leg of the search: the best `k` passages for `plan`, best first."""

    name: str

    def search(self, plan: QueryPlan, k: int) -> list[Hit]: ...
