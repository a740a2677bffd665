"""One search request, its defaults, bounds and cross-parameter rules.

Defaults and bounds of every request parameter are defined once, here, and read by
the request parser (`search.params`), the OpenAPI document and
`SearchRequest.validate`. `search.models` re-exports everything, so interfaces keep
importing from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from search.errors import bad_parameter

__all__ = [
    "DEFAULT_DEPTH",
    "DEFAULT_RRF_K",
    "DEPTH_RANGE",
    "FUSION_METHODS",
    "LANG_SCOPES",
    "LIMIT_RANGE",
    "MAX_QUERY_CHARS",
    "MODES",
    "OFFSET_RANGE",
    "PER_ARTICLE_RANGE",
    "RRF_K_RANGE",
    "SORTS",
    "TRANSLATION_LANGUAGES",
    "Fusion",
    "LangScope",
    "Mode",
    "SearchRequest",
    "Sort",
]

Mode = Literal["hybrid", "lexical", "semantic"]
Fusion = Literal["rrf", "weighted"]
# relevance: the fused order; date_desc / date_asc: newest / oldest first, undated last
Sort = Literal["relevance", "date_desc", "date_asc"]
# article: `lang` filters by the article's language (an English article quoting a
# Spanish tweet is English); passage: by each passage's own language.
LangScope = Literal["article", "passage"]
MODES: tuple[Mode, ...] = get_args(Mode)
FUSION_METHODS: tuple[Fusion, ...] = get_args(Fusion)
SORTS: tuple[Sort, ...] = get_args(Sort)
LANG_SCOPES: tuple[LangScope, ...] = get_args(LangScope)
# The languages a query is translated into (both ways: es->en and en->es).
TRANSLATION_LANGUAGES = ("en", "es")

MAX_QUERY_CHARS = 1000
LIMIT_RANGE = (1, 100)  # results per page
OFFSET_RANGE = (0, 1000)  # results skipped (paging)
PER_ARTICLE_RANGE = (1, 20)  # passages shown per article
DEPTH_RANGE = (10, 1000)  # candidates per retriever before fusion
RRF_K_RANGE = (1, 10000)
DEFAULT_DEPTH = 100
# Reciprocal rank fusion's k (Cormack, Clarke and Büttcher, SIGIR 2009, use 60).
# A smaller k trusts each leg's top ranks more, which keeps a strong lexical #1
# from being outvoted by a semantic leg that has nothing to say (name queries).
# 20 measured better than 60 on two of our three sets and level on the third; with
# the feedback leg (`search.feedback`), 10 is better than 20 on XQuAD and on the
# news set (search/evaluation/relevance-analysis.md, (c) and (d)).
DEFAULT_RRF_K = 10


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """One search. `validate()` raises `BadQueryError` naming the parameter and the fix.

    `alpha` is the semantic weight of weighted fusion: 0 = lexical only, 1 = semantic
    only. `depth` is how many candidates each retriever contributes before fusion;
    None means the service's setting. `sources` match the index's stored names
    case-insensitively. `skip_translations`: languages the query is *not* translated
    into (`translate=False` skips every one).
    """

    query: str
    mode: Mode = "hybrid"
    limit: int = 10
    offset: int = 0
    langs: tuple[str, ...] = ()
    lang_scope: LangScope = "article"
    sources: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    sort: Sort = "relevance"
    per_article: int = 1
    fusion: Fusion = "rrf"
    alpha: float | None = None
    rrf_k: int | None = None
    depth: int | None = None
    translate: bool = True
    skip_translations: tuple[str, ...] = ()
    # hybrid with rrf: also fuse the best match's twins in another language as a
    # third leg (`search.feedback`); False fuses the two legs alone.
    feedback: bool = True
    # False: skip highlighting (no spans, via_translation False); for batch
    # evaluation, where highlighting was half the cost of a 100-result search.
    highlight: bool = True
    # False: every fused passage counts as a match, the relevance floor is not
    # applied; for evaluation, which judges the ranking rather than where it is cut.
    relevance_floor: bool = True

    def validate(self, *, known_langs: frozenset[str]) -> None:
        if len(self.query) > MAX_QUERY_CHARS:
            raise bad_parameter(
                "q",
                "q is {length} characters; the limit is {limit}.",
                length=len(self.query),
                limit=MAX_QUERY_CHARS,
            )
        _one_of("mode", self.mode, MODES)
        _one_of("fusion", self.fusion, FUSION_METHODS)
        _one_of("sort", self.sort, SORTS)
        _one_of("lang_scope", self.lang_scope, LANG_SCOPES)
        _in_range("limit", self.limit, LIMIT_RANGE)
        _in_range("offset", self.offset, OFFSET_RANGE)
        _in_range("per_article", self.per_article, PER_ARTICLE_RANGE)
        if self.rrf_k is not None:
            _in_range("rrf_k", self.rrf_k, RRF_K_RANGE)
        if self.depth is not None:
            _in_range("depth", self.depth, DEPTH_RANGE)
        if self.alpha is not None:
            if not (math.isfinite(self.alpha) and 0.0 <= self.alpha <= 1.0):
                raise bad_parameter(
                    "alpha", "alpha={value!r} must be a number between 0 and 1.", value=self.alpha
                )
            if self.fusion != "weighted":
                raise bad_parameter(
                    "alpha", "alpha weights the legs of fusion=weighted; add fusion=weighted."
                )
        for lang in self.langs:
            if lang not in known_langs:
                raise bad_parameter(
                    "lang",
                    "lang={value!r} is not a language of this index; use one of {choices}.",
                    value=lang,
                    choices=", ".join(sorted(known_langs)),
                )
        for lang in self.skip_translations:
            if lang not in TRANSLATION_LANGUAGES:
                raise bad_parameter(
                    "skip_translation",
                    "skip_translation={value!r} is not a language queries are translated "
                    "into; use one of {choices}.",
                    value=lang,
                    choices=", ".join(TRANSLATION_LANGUAGES),
                )
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise bad_parameter(
                "date_from",
                "date_from {start} is after date_to {end}.",
                start=self.date_from,
                end=self.date_to,
            )


def _one_of(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise bad_parameter(
            name,
            "{name}={value!r} is not one of {choices}.",
            name=name,
            value=value,
            choices=", ".join(choices),
        )


def _in_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise bad_parameter(
            name,
            "{name}={value} is out of range; use {low}..{high}.",
            name=name,
            value=value,
            low=low,
            high=high,
        )
