"""Plain dataclasses in and out of the engine; the API, the page and the CLI render them.

Nothing here knows HTML or HTTP. A result carries its passage text, the character
spans that matched the query (each saying whether it matched through a machine
translation) and the window of the text worth showing as a snippet; each layer
renders those its own way (`<mark>` on the page, `**` in the terminal).

The request, and the defaults and bounds of every parameter, live in
`search.request` and are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from search.health import Health, HealthModel, HealthTranslation
from search.request import *  # noqa: F403 (the request half of the models, re-exported)
from search.request import Mode
from search.request import __all__ as _REQUEST_NAMES

__all__ = [
    *_REQUEST_NAMES,
    "ArticlePassage",
    "ArticleView",
    "Correction",
    "FacetValue",
    "Facets",
    "Health",
    "HealthModel",
    "HealthTranslation",
    "Highlight",
    "Hit",
    "LegRank",
    "MachineTranslation",
    "MatchKind",
    "SearchResponse",
    "SearchResult",
    "SourceList",
    "Suggestion",
    "TextWindow",
    "WriteResult",
]

# Why a result is a match: a word of the query as typed ("keyword"), a word of its
# machine translation only ("translated_keyword"), or a meaning (cosine) score at or
# above the relevance floor ("meaning"). None: not a match, only among the closest.
MatchKind = Literal["keyword", "translated_keyword", "meaning"]


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
    # hybrid: the best match is #1 of the feedback leg, its twins in another
    # language follow, by cosine to it (`search.feedback`); None for the rest
    feedback: LegRank | None
    via_translation: bool  # matched (lexically) only through a machine translation
    # The article's language; `lang` is the passage's own (a quoted Spanish tweet in
    # an English article: lang "es", article_lang "en").
    article_lang: str
    match: MatchKind | None

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
class FacetValue:
    """One value of a facet and how many matched articles have it (None: unknown)."""

    value: str | None
    count: int


@dataclass(frozen=True, slots=True)
class Facets:
    """Counts over every match of a search (not only the page shown), by article.

    `lang` counts articles by their language (by the matching passages' language
    with lang_scope=passage); `year` by the article's date, None for undated.
    """

    lang: list[FacetValue] = field(default_factory=list)
    source: list[FacetValue] = field(default_factory=list)
    year: list[FacetValue] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Correction:
    word: str  # as typed
    suggestion: str  # a word of the index's own vocabulary


@dataclass(frozen=True, slots=True)
class Suggestion:
    """ "Did you mean": the query with its unmatched words replaced by close words."""

    query: str
    corrections: list[Correction]


@dataclass(frozen=True, slots=True)
class SearchResponse:
    query: str
    mode: Mode
    # Matches among the fused, grouped candidates (candidates are capped by depth):
    # passages with a keyword (original or translated), or a meaning score at or
    # above `meaning_floor`. `results` is one page of them, in the requested order.
    total: int
    offset: int
    limit: int
    took_ms: float
    generation: str
    results: list[SearchResult]
    translations: dict[str, str] = field(default_factory=dict)  # lang -> translated query
    notes: list[str] = field(default_factory=list)  # e.g. "translation unavailable"
    # When nothing matches: the nearest passages anyway (by the fused order), at most
    # 5 (and `limit`), for a person to judge; they contain no query word and fall below the
    # floor. Empty whenever `total` > 0.
    closest: list[SearchResult] = field(default_factory=list)
    facets: Facets = field(default_factory=Facets)
    did_you_mean: Suggestion | None = None
    meaning_floor: float | None = None  # the cosine floor used; None: no semantic leg


@dataclass(frozen=True, slots=True)
class MachineTranslation:
    """A machine translation (Apertium) of `article.text[start:end]`, never stored."""

    text: str
    source_lang: str
    target_lang: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ArticlePassage:
    passage_id: str
    lang: str
    start: int  # character offsets into the article text, end exclusive
    end: int
    # Matches of the query the article was opened for, as offsets into the
    # *article* text; empty without a query.
    highlights: tuple[Highlight, ...] = ()
    # Where the next passage starts (passages overlap by a sentence or two): the
    # passage's own text is article.text[start:own_end].
    own_end: int = 0
    # The language a machine translation of it would be in; None when it cannot be
    # translated (a third language, or translation unavailable).
    translatable_to: str | None = None
    # Its own text machine-translated, when asked for.
    translation: MachineTranslation | None = None


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
    notes: list[str] = field(default_factory=list)  # e.g. "machine translation failed"

    def passage(self, passage_id: str) -> ArticlePassage | None:
        return next((p for p in self.passages if p.passage_id == passage_id), None)


@dataclass(frozen=True, slots=True)
class SourceList:
    """Every source of the live index with its number of articles, most first."""

    generation: str
    sources: list[FacetValue]
    unsourced: int  # articles without a source


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What a write through the API changed (`search.writer`)."""

    generation: str  # the generation served from now on; it holds the change
    article_id: str
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    passages: int = 0  # the article's passages searchable now (0 once removed)
    encoded_passages: int = 0  # passages run through the model (the rest were cached)
    took_ms: float = 0.0  # the whole write: encoding, publishing and reloading
