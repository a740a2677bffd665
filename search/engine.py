"""The search engine: composes the live generation, the query plan, the legs, fusion,
grouping and result building. It does little itself.

No HTTP here: the API, the page and the CLI call `search`, `article` and `health`
and map `SearchError`s. Each request uses one generation from start to end
(`search.generation`); translation, embedding, highlighting and reloading live in
their own modules.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from indexer.analysis import Analyzers
from indexer.manifest import Manifest
from search.article_facts import ArticleFacts, ArticleFactsCache
from search.article_view import build_article_view
from search.demotion import demote_boilerplate
from search.errors import ArticleNotFoundError, IndexCorruptError, bad_parameter
from search.facets import count_facets, list_sources
from search.feedback import FEEDBACK_LEG, TWIN_FLOOR, feedback_run
from search.filters import SearchFilters
from search.fusion import FusedHit, add_rrf_run, fuse_legs
from search.generation import EncoderPool, LiveGeneration, LoadedGeneration, QueryEncoder
from search.grouping import limit_per_article
from search.health import Health, health_report
from search.heap import freeze_loaded, freeze_startup, return_freed_memory
from search.highlight import Highlighter
from search.leg_runs import run_legs
from search.matching import CLOSEST_SHOWN, MEANING_FLOOR, partition
from search.models import (
    DEFAULT_DEPTH,
    DEFAULT_RRF_K,
    ArticleView,
    Mode,
    SearchRequest,
    SearchResponse,
    SourceList,
    Suggestion,
)
from search.ordering import order_matches
from search.passage_translation import PassageTranslator
from search.plan import DEFAULT_TRANSLATED_BOOST, QueryPlan
from search.query_embedding import QueryEmbedder
from search.query_language_hint import evident_language, may_be_spanish
from search.query_parser import ParsedQuery, parse_query
from search.query_translation import QueryTranslations, QueryTranslator, Translator
from search.results import ResultBuilder
from search.suggest import Suggester, without_known_words
from search.thread_cores import kept_off_core

if TYPE_CHECKING:
    from search.snapshot import IndexSnapshot

__all__ = ["EngineOptions", "SearchEngine"]

log = logging.getLogger(__name__)

_MAX_CANDIDATES = 1000


@dataclass(frozen=True, slots=True)
class EngineOptions:
    depth: int = DEFAULT_DEPTH  # candidates per retriever before fusion
    rrf_k: int = DEFAULT_RRF_K
    query_translation: bool = True
    translated_boost: float = DEFAULT_TRANSLATED_BOOST
    # Cosine at or above which a passage matches by meaning (`search.matching`).
    meaning_floor: float = MEANING_FLOOR
    # Cosine to the best match from which another language's passage is its twin
    # (`search.feedback`).
    twin_floor: float = TWIN_FLOOR


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
        self._given_encoder = encoder
        if encoder is not None:
            encoders.add(encoder)
        # a reload reads the new generation's article facts before serving it
        self._facts = ArticleFactsCache()
        self._generation = LiveGeneration(
            index_dir, analyzers=analyzers, encoders=encoders, prepare=self._facts.of
        )
        enabled = self.options.query_translation
        self._translator = QueryTranslator(translator, enabled=enabled)
        self._passage_translator = PassageTranslator(translator, enabled=enabled)
        self._embedder = QueryEmbedder()
        # translates a query while the request's own thread embeds it (`_translate`),
        # and reads the article facts while `warm_up` goes on
        self._helpers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="engine-helper")
        self._highlighter = Highlighter(analyzers)
        self._results = ResultBuilder(self._highlighter)
        # set while `warm_up`'s background read of the article facts runs. A flag, not
        # the read's Future: a Future keeps its result, and the start-up generation's
        # facts (a view of its memory-mapped row_live.npy among them) would then stay
        # in memory, and that file mapped after it was deleted, as long as the engine
        # lived, reloads or not
        self._facts_warming = threading.Event()
        self._suggester = Suggester()

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
    def given_encoder(self) -> QueryEncoder | None:
        """The encoder passed in, if any: a write embeds new passages with it too,
        so they share a space with the passages it embedded (`search.writer`)."""
        return self._given_encoder

    @property
    def translation_available(self) -> bool:
        return self._translator.available

    def reload_if_changed(self) -> bool:
        """Switch to a newer live generation if there is one (see `search.generation`)."""
        return self._generation.reload_if_changed()

    def reload_now(self) -> str:
        """Serve the newest live generation before returning, and name the one served:
        a write answers once its change is searchable, not a reload period later.
        `IndexCorruptError` if it cannot be loaded; the previous one keeps serving."""
        self._generation.reload_if_changed()
        problems = self._generation.problems
        if problems:
            raise IndexCorruptError(
                f"The change was saved, but the service could not load it ({problems[0]}); "
                "the previous generation is still served. /api/health shows the problem."
            )
        return self._generation.current.snapshot.generation

    def warm_up(self) -> None:
        """Run the model and start the translator's pipelines once, so the first user
        query does not pay ~300 ms of start-up; read the article facts in the
        background (3.5 s at a million passages: the first search would pay it)."""
        self._facts_warming.set()
        loading = self._helpers.submit(self._facts.of, self.snapshot)
        loading.add_done_callback(self._facts_read)
        self.query_encoder.encode(["warm up"])
        self._translator.warm_up()

    def _facts_read(self, loading: Future[ArticleFacts]) -> None:
        """After warm-up's read of the article facts: their freed temporaries back to
        the system, the facts themselves out of the collector's walks (`search.heap`).
        Nothing keeps the finished Future, so the facts live in the facts cache only.
        Should the read fail, the first search that needs them reads them again."""
        error = loading.exception()
        if error is not None:
            log.warning("reading the article facts in the background failed: %s", error)
        return_freed_memory()
        freeze_loaded()
        self._facts_warming.clear()

    def freeze_heap(self) -> None:
        """For a server, once it serves: what start-up loaded is left out of the
        cyclic garbage collector's walks from now on (`search.heap`); a reload
        undoes it."""
        freeze_startup()

    def clear_caches(self) -> None:
        """Forget cached query vectors and translations (benchmarks measure cold queries)."""
        self._embedder.clear_cache()
        self._translator.clear_cache()

    # -- search ----------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        loaded = self._generation.current  # one generation for the whole request
        snapshot = loaded.snapshot
        request.validate(known_langs=snapshot.languages)
        parsed = _parse(request.query)
        # "did you mean" needs only the query (a word not seen before costs a fuzzy
        # search of the vocabulary, 0.1-1.7 ms): worked out while Apertium translates
        suggestion: list[Suggestion | None] = []

        def suggest() -> None:
            suggestion.append(self._suggester.suggest(snapshot, parsed, request.query))

        facts = self._facts.of(snapshot)
        sources = facts.match_sources(request.sources)
        translations = self._translate(
            loaded,
            parsed,
            request.translate,
            request.skip_translations,
            embed_meanwhile=request.mode in ("hybrid", "semantic"),
            meanwhile=suggest,
        )
        vector, encode = self._query_vector(loaded, parsed, translations, request.mode)
        plan = self._plan(loaded, parsed, translations, request, facts, sources.stored, vector)
        depth = request.depth or self.options.depth
        wanted = (request.offset + request.limit) * request.per_article
        candidates = min(_MAX_CANDIDATES, max(depth, wanted))
        runs = run_legs(
            request.mode, plan, candidates, loaded=loaded, encode=encode, helpers=self._helpers
        )
        rrf_k = request.rrf_k or self.options.rrf_k

        # plain array views of the store's memory-mapped columns: np.memmap's Python
        # __getitem__ cost ~1 us per passage looked up, 0.6 ms per search
        content_free = np.asarray(snapshot.store.row_content_free)
        row_article = np.asarray(snapshot.store.row_article)

        def demoted(hits: list[FusedHit]) -> list[FusedHit]:
            return demote_boilerplate(hits, content_free=content_free)

        raw = fuse_legs(runs, method=request.fusion, rrf_k=rrf_k, alpha=request.alpha)
        fused = demoted(raw)
        if request.feedback and request.fusion == "rrf" and len(runs) == 2:
            feedback = feedback_run(
                fused,
                runs,
                vectors_of=loaded.semantic.vectors_of,
                row_lang=snapshot.store.row_lang,
                floor=self.options.twin_floor,
            )
            fused = demoted(add_rrf_run(raw, FEEDBACK_LEG, feedback, k=rrf_k))
        grouped = limit_per_article(
            fused,
            article_of=lambda hit: int(row_article[hit.key]),
            per_article=request.per_article,
        )
        floor = self.options.meaning_floor if request.relevance_floor else None
        keyword_rows: frozenset[int] = frozenset()
        if "lexical" not in runs and floor is not None:  # which hold a word, all the same
            keyword_rows = loaded.lexical.matching_rows(plan, (hit.key for hit in grouped))
        matches, rest = partition(grouped, floor=floor, keyword_rows=keyword_rows)
        ordered = order_matches(matches, facts, request.sort)
        page = ordered[request.offset : request.offset + request.limit]
        closest = rest[: min(request.limit, CLOSEST_SHOWN)] if not matches else []

        built = self._results.build_all(  # one read of the store for both lists
            snapshot,
            [*page, *closest],
            plan,
            highlight=request.highlight,
            floor=floor,
            keyword_rows=keyword_rows,
        )
        results, closest_results = built[: len(page)], built[len(page) :]
        facets = count_facets(facts, (hit.key for hit in matches), lang_scope=request.lang_scope)
        if not suggestion:  # nothing was translated
            suggest()
        return SearchResponse(
            query=request.query,
            mode=request.mode,
            total=len(matches),
            offset=request.offset,
            limit=request.limit,
            # the whole search: results, facets and the suggestion were built above
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            generation=snapshot.generation,
            results=results,
            translations=translations.texts,
            notes=[
                *translations.notes,
                *(f"source {name!r} is not a source of this index" for name in sources.unknown),
            ],
            closest=closest_results,
            facets=facets,
            did_you_mean=without_known_words(suggestion[0], request.query, translations.texts),
            meaning_floor=floor if "semantic" in runs else None,
        )

    def _translate(
        self,
        loaded: LoadedGeneration,
        parsed: ParsedQuery,
        wanted: bool,
        skip: Collection[str] = (),
        *,
        embed_meanwhile: bool = False,
        meanwhile: Callable[[], None] | None = None,
    ) -> QueryTranslations:
        """The query's translations. With `embed_meanwhile`, a query that does not look
        Spanish (`search.query_language_hint`) is embedded as typed on this thread
        while Apertium translates it: `_plan` then finds its vector cached. They
        overlap on 2 cores: an English query used to pay translation (5-8 ms p50 on a
        quiet machine) and encoding (10-12 ms) one after the other; measured on 400
        XQuAD questions, `search` p50 0.885x for English ones, Spanish unchanged.
        The translation is sent into a pipeline before the embedding starts
        (`QueryTranslator.head_start`) and read on this thread after it; with every
        pipeline busy, a helper thread translates instead.
        A query that reads as Spanish is sent into Apertium the same way, with
        nothing to embed yet. `meanwhile()` runs while Apertium translates: on this
        thread after the text is sent (and embedded), or on a helper while this
        thread waits for a busy pipeline. Not at all when Apertium is not asked.
        A query whose language is evident is translated out of it only; untranslated,
        it still reads as that language (`QueryTranslations.language`)."""
        text = parsed.positive_text()
        language = evident_language(text)
        if not wanted:
            return QueryTranslations(language=language)
        translate = functools.partial(
            self._translator.translate,
            text,
            names=loaded.vocabulary,
            phrases=parsed.phrases,
            language=language,
        )
        if not self._translator.available:
            translated = translate()  # a note only; `meanwhile` is the caller's to run
            return translated.without(skip) if skip else translated
        embed_first = embed_meanwhile and not may_be_spanish(text)
        with self._translator.head_start(text, language=language) as started:
            if started or embed_first:
                # this thread is free until Apertium answers: the encoder (for a
                # query that does not look Spanish) and `meanwhile` use it
                pending = None if started else self._helpers.submit(translate)
                if embed_first:  # off the core Apertium translates on, where it has one
                    with kept_off_core(self._translator.head_start_core() if started else None):
                        self._embedder.embed(loaded.encoder, text, translations={}, pivot=None)
                if meanwhile is not None:
                    meanwhile()
                translated = translate() if pending is None else pending.result()
            else:  # every pipeline busy: this thread waits in `translate`, a helper works
                aside = self._helpers.submit(meanwhile) if meanwhile is not None else None
                translated = translate()
                if aside is not None:
                    aside.result()
        return translated.without(skip) if skip else translated

    def _query_vector(
        self,
        loaded: LoadedGeneration,
        parsed: ParsedQuery,
        translations: QueryTranslations,
        mode: Mode,
    ) -> tuple[npt.NDArray[np.float32] | None, Callable[[], npt.NDArray[np.float32]] | None]:
        """(the query vector if it is cached, else None; what encodes it, if not).

        An English query's vector is usually cached by now (`_translate`). One that
        reads as Spanish is embedded through its English translation, so its
        encoding could start only now: `run_legs` runs the lexical leg meanwhile."""
        if mode not in ("hybrid", "semantic"):
            return None, None
        embed = functools.partial(
            self._embedder.embed,
            loaded.encoder,
            parsed.positive_text(),
            translations=translations.texts,
            pivot=loaded.snapshot.manifest.translation.embedding_pivot,
        )
        cached = self._embedder.cached(*embed.args, **embed.keywords)
        return (cached, None) if cached is not None else (None, embed)

    def _plan(
        self,
        loaded: LoadedGeneration,
        parsed: ParsedQuery,
        translations: QueryTranslations,
        request: SearchRequest,
        facts: ArticleFacts,
        sources: tuple[str, ...],
        vector: npt.NDArray[np.float32] | None,
    ) -> QueryPlan:
        """What the legs need; `vector` None: still to be encoded (`_query_vector`)."""
        by_article = request.lang_scope == "article" and bool(request.langs)
        return QueryPlan(
            parsed=parsed,
            translations=translations.texts,
            filters=SearchFilters(
                langs=() if by_article else request.langs,
                article_langs=facts.language_rows(request.langs) if by_article else None,
                sources=sources,
                date_from=request.date_from,
                date_to=request.date_to,
            ),
            constraints=loaded.lexical.constraints(parsed, translations.phrases),
            vector=vector,
            translated_boost=self.options.translated_boost,
            query_language=translations.language,
        )

    # -- articles, sources and health ------------------------------------------------

    def article(
        self,
        article_id: str,
        *,
        query: str = "",
        translate: bool = True,
        translate_passages: Collection[int] | Literal["all"] = (),
    ) -> ArticleView:
        """The article and its passages; with `query`, each passage's highlights, the
        same ones (translated matches included) a search result shows.
        `translate_passages`: passages to machine-translate (their own text), by
        number in the article from 1, or "all"."""
        loaded = self._generation.current
        snapshot = loaded.snapshot
        if snapshot.article(article_id) is None:
            raise ArticleNotFoundError(article_id)
        parsed = parse_query(query[:1000])
        translations = (
            self._translate(loaded, parsed, translate)
            if not parsed.is_empty
            else QueryTranslations()
        )
        return build_article_view(
            snapshot,
            article_id,
            highlighter=self._highlighter,
            parsed=parsed,
            translations=translations.texts,
            query_language=translations.language,
            translator=self._passage_translator,
            translate_passages=translate_passages,
        )

    def sources(self) -> SourceList:
        """Every source of the live index, with its number of articles."""
        return list_sources(self._facts.of(self._generation.current.snapshot))

    def health(self) -> Health:
        loaded = self._generation.current
        warming = []
        if self._facts_warming.is_set():
            warming.append(
                "article facts: reading each article's language, source and date for "
                "filters and facets (the first search waits for it)"
            )
        if not loaded.vocabulary.ready:
            warming.append(
                "name vocabulary: counting capitalised words across the archive; until "
                "then a word is kept from translation by the query's own capitals"
            )
        return health_report(
            loaded.snapshot.manifest,
            problems=self._generation.problems,
            query_translation=self.translation_available,
            warming=warming,
        )


def _parse(query: str) -> ParsedQuery:
    parsed = parse_query(query)
    if parsed.is_empty and parsed.excluded_terms:
        raise bad_parameter(
            "q", "q has nothing to search for (it only excludes words): type a word or a question."
        )
    if parsed.is_empty:
        raise bad_parameter("q", "q has nothing to search for: type a word or a question.")
    return parsed
