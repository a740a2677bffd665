"""The search engine: composes the live generation, the query plan, the legs, fusion,
grouping and result building. It does little itself.

No HTTP here: the API, the page and the CLI call `search`, `article` and `health`
and map `SearchError`s. Each request uses one generation from start to end
(`search.generation`); translation, embedding, highlighting and reloading live in
their own modules.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.analysis import Analyzers
from indexer.manifest import Manifest
from search.demotion import demote_boilerplate
from search.errors import ArticleNotFoundError, BadQueryError
from search.filters import SearchFilters
from search.fusion import FusedHit, fuse
from search.generation import EncoderPool, LiveGeneration, LoadedGeneration, QueryEncoder
from search.grouping import limit_per_article
from search.highlight import Highlighter
from search.models import (
    DEFAULT_DEPTH,
    DEFAULT_RRF_K,
    ArticlePassage,
    ArticleView,
    Health,
    HealthModel,
    HealthTranslation,
    Hit,
    LegRank,
    SearchRequest,
    SearchResponse,
)
from search.plan import DEFAULT_TRANSLATED_BOOST, QueryPlan, Retriever
from search.query_embedding import QueryEmbedder
from search.query_parser import ParsedQuery, parse_query
from search.query_translation import QueryTranslations, QueryTranslator, Translator
from search.results import ResultBuilder

if TYPE_CHECKING:
    from search.snapshot import IndexSnapshot

__all__ = ["EngineOptions", "SearchEngine"]

_MAX_CANDIDATES = 1000


@dataclass(frozen=True, slots=True)
class EngineOptions:
    depth: int = DEFAULT_DEPTH  # candidates per retriever before fusion
    rrf_k: int = DEFAULT_RRF_K
    query_translation: bool = True
    translated_boost: float = DEFAULT_TRANSLATED_BOOST


def _load_encoder(index_dir: Path, manifest: Manifest) -> QueryEncoder:
    """The torch-free ONNX export the build recorded, else sentence-transformers (logged)."""
    from indexer.query_encoder import open_query_encoder

    return open_query_encoder(index_dir, manifest, threads=1)


class SearchEngine:
    def __init__(
        self,
        index_dir: Path,
        *,
        options: EngineOptions | None = None,
        translator: Translator | None = None,
        encoder: QueryEncoder | None = None,
    ) -> None:
        """Loads the live generation now: a missing or corrupt index raises here.

        `encoder` is used for indexes built with its model (tests pass the one
        they built with); other models load on first use.
        """
        self.options = options or EngineOptions()
        analyzers = Analyzers.create()
        encoders = EncoderPool(_load_encoder)
        if encoder is not None:
            encoders.add(encoder)
        self._generation = LiveGeneration(index_dir, analyzers=analyzers, encoders=encoders)
        self._translator = QueryTranslator(translator, enabled=self.options.query_translation)
        self._embedder = QueryEmbedder()
        self._highlighter = Highlighter(analyzers)
        self._results = ResultBuilder(self._highlighter)

    # -- lifecycle -------------------------------------------------------------------

    @property
    def index_dir(self) -> Path:
        return self._generation.index_dir

    @property
    def snapshot(self) -> IndexSnapshot:
        return self._generation.current.snapshot

    @property
    def query_encoder(self) -> QueryEncoder:
        return self._generation.current.encoder

    @property
    def translation_available(self) -> bool:
        return self._translator.available

    def reload_if_changed(self) -> bool:
        """Switch to a newer live generation if there is one (see `search.generation`)."""
        return self._generation.reload_if_changed()

    def warm_up(self) -> None:
        """Run the model and start the translator's pipelines once, so the first user
        query does not pay ~300 ms of start-up."""
        self.query_encoder.encode(["warm up"])
        self._translator.warm_up()

    def clear_caches(self) -> None:
        """Forget cached query vectors and translations (benchmarks measure cold queries)."""
        self._embedder.clear_cache()
        self._translator.clear_cache()

    # -- search ----------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        loaded = self._generation.current  # one generation for the whole request
        request.validate(known_langs=loaded.snapshot.languages)
        parsed = _parse(request.query)
        translations = self._translate(parsed, request.translate)
        plan = self._plan(loaded, parsed, translations, request)
        depth = request.depth or self.options.depth
        wanted = (request.offset + request.limit) * request.per_article
        candidates = min(_MAX_CANDIDATES, max(depth, wanted))
        legs: list[Retriever] = []
        if request.mode in ("hybrid", "lexical"):
            legs.append(loaded.lexical)
        if request.mode in ("hybrid", "semantic"):
            legs.append(loaded.semantic)
        runs = {leg.name: leg.search(plan, candidates) for leg in legs}
        snapshot = loaded.snapshot
        fused = demote_boilerplate(
            self._fuse(runs, request), label_of=lambda row: snapshot.passages[row].boilerplate
        )
        grouped = limit_per_article(
            fused,
            article_of=lambda hit: snapshot.passages[hit.key].article_id,
            per_article=request.per_article,
        )
        page = grouped[request.offset : request.offset + request.limit]
        return SearchResponse(
            query=request.query,
            mode=request.mode,
            total=len(grouped),
            offset=request.offset,
            limit=request.limit,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            generation=snapshot.generation,
            results=[
                self._results.build(snapshot, hit, plan, highlight=request.highlight)
                for hit in page
            ],
            translations=translations.texts,
            notes=translations.notes,
        )

    def _translate(self, parsed: ParsedQuery, wanted: bool) -> QueryTranslations:
        if not wanted:
            return QueryTranslations()
        return self._translator.translate(parsed.positive_text())

    def _plan(
        self,
        loaded: LoadedGeneration,
        parsed: ParsedQuery,
        translations: QueryTranslations,
        request: SearchRequest,
    ) -> QueryPlan:
        vector = None
        if request.mode in ("hybrid", "semantic"):
            vector = self._embedder.embed(
                loaded.encoder,
                parsed.positive_text(),
                translations=translations.texts,
                pivot=loaded.snapshot.manifest.translation.embedding_pivot,
            )
        return QueryPlan(
            parsed=parsed,
            translations=translations.texts,
            filters=SearchFilters(
                langs=request.langs,
                sources=request.sources,
                date_from=request.date_from,
                date_to=request.date_to,
            ),
            constraints=loaded.lexical.constraints(parsed),
            vector=vector,
            translated_boost=self.options.translated_boost,
        )

    def _fuse(self, runs: dict[str, list[Hit]], request: SearchRequest) -> list[FusedHit]:
        if len(runs) == 1:  # one leg: its own order and score
            name, hits = next(iter(runs.items()))
            return [
                FusedHit(key=h.key, score=h.score, legs={name: LegRank(rank, h.score)})
                for rank, h in enumerate(hits, start=1)
            ]
        alpha = 0.5 if request.alpha is None else request.alpha
        return fuse(
            runs,
            method=request.fusion,
            rrf_k=request.rrf_k or self.options.rrf_k,
            weights={"lexical": 1.0 - alpha, "semantic": alpha},
        )

    # -- articles and health ---------------------------------------------------------

    def article(self, article_id: str, *, query: str = "", translate: bool = True) -> ArticleView:
        """The article and its passages; with `query`, each passage's highlights, the
        same ones (translated matches included) a search result shows."""
        snapshot = self._generation.current.snapshot
        article = snapshot.articles.get(article_id)
        if article is None:
            raise ArticleNotFoundError(article_id)
        parsed = parse_query(query[:1000])
        translations = self._translate(parsed, translate).texts if not parsed.is_empty else {}
        passages = []
        for row in snapshot.passages_by_article[article_id]:
            passage = snapshot.passages[row]
            highlights = (
                self._highlighter.highlights(
                    article.text[passage.start : passage.end],
                    lang=passage.lang,
                    parsed=parsed,
                    translations=translations,
                    offset=passage.start,
                )
                if not parsed.is_empty
                else ()
            )
            passages.append(
                ArticlePassage(
                    passage_id=passage.passage_id,
                    lang=passage.lang,
                    start=passage.start,
                    end=passage.end,
                    highlights=highlights,
                )
            )
        record = {field.name: getattr(article, field.name) for field in fields(article)}
        return ArticleView(**record, passages=passages)

    def health(self) -> Health:
        manifest = self._generation.current.snapshot.manifest
        degraded = self._generation.problems
        if not self.translation_available:
            degraded.append("query translation off: Apertium unavailable or disabled")
        if not manifest.translation.enabled:
            degraded.append(f"index built without translation ({manifest.translation.reason})")
        return Health(
            status="degraded" if degraded else "ok",
            generation=manifest.generation,
            built_at=manifest.created_at,
            articles=manifest.articles,
            passages=manifest.passages,
            passages_by_language=dict(manifest.passages_by_language),
            model=HealthModel(
                name=manifest.model.name,
                dimension=manifest.model.dimension,
                multilingual=manifest.model.multilingual,
            ),
            translation=HealthTranslation(
                query=self.translation_available,
                index=manifest.translation.enabled,
                embedding_pivot=manifest.translation.embedding_pivot,
            ),
            degraded=degraded,
        )


def _parse(query: str) -> ParsedQuery:
    parsed = parse_query(query)
    if parsed.is_empty:
        raise BadQueryError(
            "q",
            "q has nothing to search for"
            + (" (it only excludes words)" if parsed.excluded_terms else "")
            + ": type a word or a question.",
        )
    return parsed
