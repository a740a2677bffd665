"""Plain dataclasses in and out of the engine; the API and the page serialise them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from search.errors import BadQueryError

__all__ = [
    "FUSION_METHODS",
    "MAX_QUERY_CHARS",
    "MODES",
    "ArticleView",
    "LegRank",
    "SearchRequest",
    "SearchResponse",
    "SearchResult",
]

Mode = Literal["hybrid", "lexical", "semantic"]
Fusion = Literal["rrf", "weighted"]
MODES: tuple[Mode, ...] = ("hybrid", "lexical", "semantic")
FUSION_METHODS: tuple[Fusion, ...] = ("rrf", "weighted")
MAX_QUERY_CHARS = 1000
MAX_LIMIT = 100
MAX_OFFSET = 1000
MAX_PER_ARTICLE = 20


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """One search. `validate()` raises `BadQueryError` naming the parameter and the fix.

    `alpha` is the semantic weight of weighted fusion: 0 = lexical only, 1 = semantic
    only. `depth` is how many candidates each retriever contributes before fusion.
    """

    query: str
    mode: str = "hybrid"
    limit: int = 10
    offset: int = 0
    langs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    per_article: int = 1
    fusion: str = "rrf"
    alpha: float | None = None
    rrf_k: int | None = None
    depth: int | None = None
    translate: bool = True
    # False: skip highlighting (snippet "", via_translation False); for batch
    # evaluation, where snippets were half the cost of a 100-result search.
    snippets: bool = True

    def validate(self, *, known_langs: frozenset[str]) -> None:
        if len(self.query) > MAX_QUERY_CHARS:
            raise BadQueryError(
                "q", f"q is {len(self.query)} characters; the limit is {MAX_QUERY_CHARS}."
            )
        if self.mode not in MODES:
            raise BadQueryError("mode", f"mode={self.mode!r} is not one of {', '.join(MODES)}.")
        if self.fusion not in FUSION_METHODS:
            raise BadQueryError(
                "fusion", f"fusion={self.fusion!r} is not one of {', '.join(FUSION_METHODS)}."
            )
        _in_range("limit", self.limit, 1, MAX_LIMIT)
        _in_range("offset", self.offset, 0, MAX_OFFSET)
        _in_range("per_article", self.per_article, 1, MAX_PER_ARTICLE)
        if self.rrf_k is not None:
            _in_range("rrf_k", self.rrf_k, 1, 10000)
        if self.depth is not None:
            _in_range("depth", self.depth, 10, 1000)
        if self.alpha is not None:
            if not (math.isfinite(self.alpha) and 0.0 <= self.alpha <= 1.0):
                raise BadQueryError(
                    "alpha", f"alpha={self.alpha!r} must be a number between 0 and 1."
                )
            if self.fusion != "weighted":
                raise BadQueryError(
                    "alpha", "alpha weights the legs of fusion=weighted; add fusion=weighted."
                )
        for lang in self.langs:
            if lang not in known_langs:
                raise BadQueryError(
                    "lang",
                    f"lang={lang!r} is not a language of this index; use one of "
                    f"{', '.join(sorted(known_langs))}.",
                )
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise BadQueryError(
                "date_from", f"date_from {self.date_from} is after date_to {self.date_to}."
            )


def _in_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise BadQueryError(name, f"{name}={value} is out of range; use {low}..{high}.")


@dataclass(frozen=True, slots=True)
class LegRank:
    rank: int  # 1-based within that retriever
    score: float  # BM25 (lexical, >= 0) or cosine (semantic, -1..1)


@dataclass(frozen=True, slots=True)
class SearchResult:
    article_id: str
    passage_id: str
    title: str
    text: str  # the original passage text, never a machine translation
    snippet: str  # HTML-escaped, matches wrapped in <mark>
    lang: str
    start: int  # character offsets of the passage in the article, end exclusive
    end: int
    date: str | None
    source: str | None
    url: str | None
    score: float  # fused score: RRF sum, or weighted normalised score in [0, 1]
    lexical: LegRank | None
    semantic: LegRank | None
    via_translation: bool  # matched (lexically) only through a machine translation


@dataclass(frozen=True, slots=True)
class SearchResponse:
    query: str
    mode: str
    total: int  # results in the fused, grouped list (candidates are capped by depth)
    offset: int
    limit: int
    took_ms: float
    generation: str
    results: list[SearchResult]
    translations: dict[str, str] = field(default_factory=dict)  # lang -> translated query
    notes: list[str] = field(default_factory=list)  # e.g. "translation unavailable"


@dataclass(frozen=True, slots=True)
class ArticleView:
    id: str
    title: str
    text: str
    lang: str
    date: str | None
    source: str | None
    url: str | None
    passages: list[dict[str, object]]  # passage_id, lang, start, end
