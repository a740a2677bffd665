"""Plain dataclasses in and out of the engine; the API, the page and the CLI render them.

Nothing here knows HTML or HTTP. A result carries its passage text, the character
spans that matched the query (each saying whether it matched through a machine
translation) and the window of the text worth showing as a snippet; each layer
renders those its own way (`<mark>` on the page, `**` in the terminal).

Defaults and bounds of every request parameter are defined once, here, and read by
the request parser, the OpenAPI document and `SearchRequest.validate`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args

from search.errors import BadQueryError

__all__ = [
    "DEFAULT_DEPTH",
    "DEFAULT_RRF_K",
    "DEPTH_RANGE",
    "FUSION_METHODS",
    "LIMIT_RANGE",
    "MAX_QUERY_CHARS",
    "MODES",
    "OFFSET_RANGE",
    "PER_ARTICLE_RANGE",
    "RRF_K_RANGE",
    "ArticlePassage",
    "ArticleView",
    "Fusion",
    "Health",
    "HealthModel",
    "HealthTranslation",
    "Highlight",
    "Hit",
    "LegRank",
    "Mode",
    "SearchRequest",
    "SearchResponse",
    "SearchResult",
    "TextWindow",
]

Mode = Literal["hybrid", "lexical", "semantic"]
Fusion = Literal["rrf", "weighted"]
MODES: tuple[Mode, ...] = get_args(Mode)
FUSION_METHODS: tuple[Fusion, ...] = get_args(Fusion)

MAX_QUERY_CHARS = 1000
LIMIT_RANGE = (1, 100)  # results per page
OFFSET_RANGE = (0, 1000)  # results skipped (paging)
PER_ARTICLE_RANGE = (1, 20)  # passages shown per article
DEPTH_RANGE = (10, 1000)  # candidates per retriever before fusion
RRF_K_RANGE = (1, 10000)
DEFAULT_DEPTH = 100
# Reciprocal rank fusion's k (Cormack, Clarke and Büttcher, SIGIR 2009, use 60).
# 20 measured better on two of our three sets and level on the third
# (search/evaluation/relevance-analysis.md, (c)): a smaller k trusts each leg's
# top ranks more, which keeps a strong lexical #1 from being outvoted by a
# semantic leg that has nothing to say (name queries).
DEFAULT_RRF_K = 20


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """One search. `validate()` raises `BadQueryError` naming the parameter and the fix.

    `alpha` is the semantic weight of weighted fusion: 0 = lexical only, 1 = semantic
    only. `depth` is how many candidates each retriever contributes before fusion;
    None means the service's setting.
    """

    query: str
    mode: Mode = "hybrid"
    limit: int = 10
    offset: int = 0
    langs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    per_article: int = 1
    fusion: Fusion = "rrf"
    alpha: float | None = None
    rrf_k: int | None = None
    depth: int | None = None
    translate: bool = True
    # False: skip highlighting (no spans, via_translation False); for batch
    # evaluation, where highlighting was half the cost of a 100-result search.
    highlight: bool = True

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
        _in_range("limit", self.limit, LIMIT_RANGE)
        _in_range("offset", self.offset, OFFSET_RANGE)
        _in_range("per_article", self.per_article, PER_ARTICLE_RANGE)
        if self.rrf_k is not None:
            _in_range("rrf_k", self.rrf_k, RRF_K_RANGE)
        if self.depth is not None:
            _in_range("depth", self.depth, DEPTH_RANGE)
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


def _in_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise BadQueryError(name, f"{name}={value} is out of range; use {low}..{high}.")


@dataclass(frozen=True, slots=True)
class Hit:
    """One retriever's candidate: a passage row and that retriever's own score.

    Scores are comparable only within one run: BM25 (lexical, >= 0, unbounded) or
    cosine similarity (semantic, -1..1).
    """

    key: int
    score: float


@dataclass(frozen=True, slots=True)
class LegRank:
    """Where one retriever put a passage: its 1-based rank and that leg's own score."""

    rank: int
    score: float  # BM25 (lexical, >= 0) or cosine (semantic, -1..1)


@dataclass(frozen=True, slots=True)
class Highlight:
    """A matched word: character offsets into the text it belongs to, end exclusive.

    `translated` is True when the word matched only the query's machine
    translation (a Spanish word found by an English query, say), not the query
    as typed.
    """

    start: int
    end: int
    translated: bool = False


@dataclass(frozen=True, slots=True)
class TextWindow:
    """The part of a text worth showing, as character offsets (end exclusive).

    `cut_before` / `cut_after`: text was left out before / after the window (an
    interface shows an ellipsis there); a title shown elsewhere does not count.
    """

    start: int
    end: int
    cut_before: bool = False
    cut_after: bool = False


@dataclass(frozen=True, slots=True)
class SearchResult:
    article_id: str
    passage_id: str
    title: str
    text: str  # the original passage text, never a machine translation
    highlights: tuple[Highlight, ...]  # offsets into `text`, sorted, disjoint
    snippet: TextWindow  # about 320 characters of `text` around the densest matches
    lang: str
    start: int  # character offsets of the passage in the article, end exclusive
    end: int
    date: str | None
    source: str | None
    url: str | None
    # The ranking score. hybrid: the fused score (RRF: sum of 1/(k + rank), at most
    # 2/(k + 1); weighted: in [0, 1]). lexical or semantic: that leg's own score.
    score: float
    lexical: LegRank | None
    semantic: LegRank | None
    via_translation: bool  # matched (lexically) only through a machine translation

    def snippet_pieces(self) -> list[tuple[str, Highlight | None]]:
        """The snippet window cut into plain and highlighted pieces, in order."""
        return split_by_highlights(self.text, self.highlights, self.snippet)


def split_by_highlights(
    text: str, highlights: tuple[Highlight, ...], window: TextWindow | None = None
) -> list[tuple[str, Highlight | None]]:
    """`text[window]` as (piece, highlight or None) pairs; highlights outside are dropped."""
    start, end = (window.start, window.end) if window else (0, len(text))
    pieces: list[tuple[str, Highlight | None]] = []
    cursor = start
    for span in highlights:
        if span.start < start or span.end > end:
            continue
        if span.start > cursor:
            pieces.append((text[cursor : span.start], None))
        pieces.append((text[span.start : span.end], span))
        cursor = span.end
    if cursor < end:
        pieces.append((text[cursor:end], None))
    return pieces


@dataclass(frozen=True, slots=True)
class SearchResponse:
    query: str
    mode: Mode
    total: int  # results in the fused, grouped list (candidates are capped by depth)
    offset: int
    limit: int
    took_ms: float
    generation: str
    results: list[SearchResult]
    translations: dict[str, str] = field(default_factory=dict)  # lang -> translated query
    notes: list[str] = field(default_factory=list)  # e.g. "translation unavailable"


@dataclass(frozen=True, slots=True)
class ArticlePassage:
    passage_id: str
    lang: str
    start: int  # character offsets into the article text, end exclusive
    end: int
    # Matches of the query the article was opened for, as offsets into the
    # *article* text; empty without a query.
    highlights: tuple[Highlight, ...] = ()


@dataclass(frozen=True, slots=True)
class ArticleView:
    """An article as stored (the fields of `indexer.layout.ArticleRecord`) and its passages."""

    id: str
    title: str
    text: str
    lang: str
    date: str | None
    source: str | None
    url: str | None
    passages: list[ArticlePassage]

    def passage(self, passage_id: str) -> ArticlePassage | None:
        return next((p for p in self.passages if p.passage_id == passage_id), None)


@dataclass(frozen=True, slots=True)
class HealthModel:
    name: str
    dimension: int
    multilingual: bool


@dataclass(frozen=True, slots=True)
class HealthTranslation:
    query: bool  # queries are translated now
    index: bool  # the index holds passage translations
    embedding_pivot: str | None  # language other passages were embedded through


@dataclass(frozen=True, slots=True)
class Health:
    """What `/api/health` reports; `degraded` lists everything running below par."""

    status: Literal["ok", "degraded"]
    generation: str
    built_at: str
    articles: int
    passages: int
    passages_by_language: dict[str, int]
    model: HealthModel
    translation: HealthTranslation
    degraded: list[str]
