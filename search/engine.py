"""The search engine: one snapshot per request, two retrievers, fusion, grouping.

No HTTP here: the API, the page and the CLI call `search`, `article` and `health`
and map `SearchError`s. The engine owns the live snapshot and swaps it atomically
when a new generation appears (see `search.reload`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from indexer.analysis import Analyzers
from indexer.encoder import Encoder
from indexer.layout import IndexLayout
from search.errors import ArticleNotFoundError, BadQueryError
from search.filters import SearchFilters
from search.fusion import FusedHit, Hit, LegScore, fuse
from search.grouping import limit_per_article
from search.lexical import DEFAULT_TRANSLATED_BOOST, LexicalQuery, LexicalRetriever
from search.lru import LruCache
from search.models import ArticleView, LegRank, SearchRequest, SearchResponse, SearchResult
from search.query_parser import ParsedQuery, parse_query
from search.semantic import SemanticRetriever
from search.snapshot import IndexSnapshot
from search.snippets import find_matches, query_tokens, render_snippet

if TYPE_CHECKING:
    from indexer.translation import ApertiumTranslator

__all__ = ["EngineOptions", "SearchEngine"]

log = logging.getLogger(__name__)

_MAX_CANDIDATES = 1000
_TRANSLATION_BACKOFF_S = 30.0
# A translation that mostly repeats the original was not really translated (the
# text was already in the target language; Apertium passes unknown words through).
_MAX_SHARED_WORDS = 0.6


@dataclass(frozen=True, slots=True)
class EngineOptions:
    depth: int = 100  # candidates per retriever before fusion
    rrf_k: int = 60  # Cormack et al. 2009
    query_translation: bool = True
    translated_boost: float = DEFAULT_TRANSLATED_BOOST


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A snapshot with its retrievers; swapped as one reference."""

    snapshot: IndexSnapshot
    lexical: LexicalRetriever
    semantic: SemanticRetriever
    encoder: Encoder


class SearchEngine:
    def __init__(
        self,
        index_dir: Path,
        *,
        options: EngineOptions | None = None,
        translator: ApertiumTranslator | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        """Loads the live generation now: a missing or corrupt index raises here."""
        self.index_dir = index_dir
        self.options = options or EngineOptions()
        self._analyzers = Analyzers.create()
        self._encoders: dict[str, Encoder] = {encoder.model_ref: encoder} if encoder else {}
        self._translator = translator
        self._reload_lock = threading.Lock()
        self.degraded: list[str] = []
        # Paging through results repeats a query: encoding (~10 ms) and translation
        # (~2 ms) are cached; both are pure functions of their inputs.
        self._vector_cache: LruCache[tuple[str, ...], npt.NDArray[np.float32]] = LruCache(2048)
        self._translation_cache: LruCache[tuple[str, str, str], str] = LruCache(2048)
        self._translation_resting_until: dict[str, float] = {}
        self._loaded = self._load()

    # -- lifecycle -------------------------------------------------------------------

    @property
    def snapshot(self) -> IndexSnapshot:
        return self._loaded.snapshot

    def reload_if_changed(self) -> bool:
        """Load and switch to a newer live generation; True if switched.

        A request holds its own reference to the old snapshot until it finishes.
        A broken new generation is reported in `degraded` and the old one kept.
        """
        with self._reload_lock:
            live = IndexLayout(self.index_dir).live_generation_id()
            if live is None or live == self._loaded.snapshot.generation:
                return False
            try:
                loaded = self._load()
            except Exception as error:  # keep serving the old generation
                message = f"generation {live} could not be loaded: {error}"
                if message not in self.degraded:
                    log.error(message)
                    self.degraded.append(message)
                return False
            self._loaded = loaded
            self.degraded = [d for d in self.degraded if not d.startswith("generation ")]
            log.info("serving generation %s", loaded.snapshot.generation)
            return True

    def _load(self) -> _Loaded:
        snapshot = IndexSnapshot.load(self.index_dir, self._analyzers)
        ref = snapshot.manifest.model.ref
        if ref not in self._encoders:
            self._encoders[ref] = Encoder(ref, threads=1)
        return _Loaded(
            snapshot=snapshot,
            lexical=LexicalRetriever(snapshot),
            semantic=SemanticRetriever(snapshot.embeddings),
            encoder=self._encoders[ref],
        )

    def warm_up(self) -> None:
        """Start the translator's pipelines and run the model once, so the first
        user query does not pay ~300 ms of start-up."""
        self._loaded.encoder.encode(["warm up"])
        if self.translation_available:
            assert self._translator is not None
            self._translator.translate("warm up", source="en", target="es")
            self._translator.translate("calentar", source="es", target="en")

    def clear_caches(self) -> None:
        """Forget cached query vectors and translations (benchmarks measure cold queries)."""
        self._vector_cache.clear()
        self._translation_cache.clear()

    @property
    def translation_available(self) -> bool:
        return self._translator is not None and self.options.query_translation

    # -- search ----------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        loaded = self._loaded  # one generation for the whole request
        snapshot = loaded.snapshot
        request.validate(known_langs=snapshot.languages)
        parsed = parse_query(request.query)
        if parsed.is_empty:
            raise BadQueryError(
                "q",
                "q has nothing to search for"
                + (" (it only excludes words)" if parsed.excluded_terms else "")
                + ": type a word or a question.",
            )
        notes: list[str] = []
        translations = self._translations(parsed, request, notes)
        filters = SearchFilters(
            langs=request.langs,
            sources=request.sources,
            date_from=request.date_from,
            date_to=request.date_to,
        )
        depth = request.depth or self.options.depth
        wanted = (request.offset + request.limit) * request.per_article
        candidates = min(_MAX_CANDIDATES, max(depth, wanted))
        runs: dict[str, list[Hit]] = {}
        if request.mode in ("hybrid", "lexical"):
            lexical_query = LexicalQuery(
                parsed, translations, translated_boost=self.options.translated_boost
            )
            runs["lexical"] = loaded.lexical.search(lexical_query, k=candidates, filters=filters)
        if request.mode in ("hybrid", "semantic"):
            vector = self._query_vector(loaded, parsed, translations)
            runs["semantic"] = loaded.semantic.search(
                vector, k=candidates, mask=self._semantic_mask(loaded, parsed, filters)
            )
        fused = self._fuse(runs, request)
        grouped = limit_per_article(
            fused,
            article_of=lambda hit: snapshot.passages[hit.key].article_id,
            per_article=request.per_article,
        )
        page = grouped[request.offset : request.offset + request.limit]
        results = [
            self._result(snapshot, hit, parsed, translations, snippets=request.snippets)
            for hit in page
        ]
        return SearchResponse(
            query=request.query,
            mode=request.mode,
            total=len(grouped),
            offset=request.offset,
            limit=request.limit,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            generation=snapshot.generation,
            results=results,
            translations=translations,
            notes=notes,
        )

    def _translations(
        self, parsed: ParsedQuery, request: SearchRequest, notes: list[str]
    ) -> dict[str, str]:
        """The query in the other language(s); {} when translation is off or failed."""
        if not request.translate:
            return {}
        if not self.translation_available:
            notes.append("translation unavailable: results match the query's own language only")
            return {}
        assert self._translator is not None
        text = parsed.positive_text()
        original_words = set(text.lower().split())
        translations: dict[str, str] = {}
        for source, target in (("es", "en"), ("en", "es")):
            translated = self._translate_cached(text, source, target)
            if translated is None:  # this direction only; the other may still help
                notes.append(f"translation {source}->{target} failed; searched without it")
                continue
            words = translated.lower().split()
            shared = sum(1 for w in words if w in original_words) / max(len(words), 1)
            if words and shared < _MAX_SHARED_WORDS:
                translations[target] = translated
        return translations

    def _translate_cached(self, text: str, source: str, target: str) -> str | None:
        """Cached translation; after a failure, the direction rests for a while.

        A hung translator costs its timeout on every query; resting it for
        `_TRANSLATION_BACKOFF_S` keeps searches fast (untranslated) meanwhile.
        """
        assert self._translator is not None
        key = (text, source, target)
        cached = self._translation_cache.get(key)
        if cached is not None:
            return cached
        if time.monotonic() < self._translation_resting_until.get(source, 0.0):
            return None
        cached = self._translator.translate(text, source=source, target=target)
        if cached is None:  # never cache a failure: a later call may work
            self._translation_resting_until[source] = time.monotonic() + _TRANSLATION_BACKOFF_S
            log.warning(
                "translation %s->%s failed; resting it for %s s",
                source,
                target,
                _TRANSLATION_BACKOFF_S,
            )
        else:
            self._translation_cache.put(key, cached)
        return cached

    def _semantic_mask(
        self, loaded: _Loaded, parsed: ParsedQuery, filters: SearchFilters
    ) -> npt.NDArray[np.bool_] | None:
        """Filters plus the query's own constraints ("phrases", -exclusions) as a row mask."""
        mask = filters.row_mask(loaded.snapshot)
        if not parsed.phrases and not parsed.excluded_terms and not parsed.excluded_phrases:
            return mask
        required, excluded = loaded.lexical.constrained_rows(parsed)
        if mask is None:
            mask = np.ones(len(loaded.snapshot.passages), dtype=bool)
        if required is not None:
            keep = np.zeros_like(mask)
            keep[list(required)] = True
            mask &= keep
        if excluded:
            mask[list(excluded)] = False
        return mask

    def _query_vector(
        self, loaded: _Loaded, parsed: ParsedQuery, translations: dict[str, str]
    ) -> npt.NDArray[np.float32]:
        """The query embedding; through the pivot language when the index used one.

        With a pivot ("en": Spanish passages were embedded via their English
        translation), the query's English translation joins the original: the
        mean of both unit vectors, renormalised. An English query's "translation"
        is dropped as untranslated, so it is embedded as typed.
        """
        texts = [parsed.positive_text()]
        pivot = loaded.snapshot.manifest.translation.embedding_pivot
        if pivot and pivot in translations:
            texts.append(translations[pivot])
        key = (loaded.encoder.model_ref, *texts)
        cached = self._vector_cache.get(key)
        if cached is not None:
            return cached
        mean = loaded.encoder.encode(texts).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        vector: npt.NDArray[np.float32] = (mean / norm if norm > 0 else mean).astype(np.float32)
        self._vector_cache.put(key, vector)
        return vector

    def _fuse(self, runs: dict[str, list[Hit]], request: SearchRequest) -> list[FusedHit]:
        if len(runs) == 1:  # one leg: its own order and score
            name, hits = next(iter(runs.items()))
            return [
                FusedHit(key=h.key, score=h.score, legs={name: LegScore(rank, h.score)})
                for rank, h in enumerate(hits, start=1)
            ]
        alpha = 0.5 if request.alpha is None else request.alpha
        return fuse(
            runs,
            method="weighted" if request.fusion == "weighted" else "rrf",
            rrf_k=request.rrf_k or self.options.rrf_k,
            weights={"lexical": 1.0 - alpha, "semantic": alpha},
        )

    def _result(
        self,
        snapshot: IndexSnapshot,
        hit: FusedHit,
        parsed: ParsedQuery,
        translations: dict[str, str],
        *,
        snippets: bool = True,
    ) -> SearchResult:
        passage = snapshot.passages[hit.key]
        article = snapshot.articles[passage.article_id]
        original = snapshot.passage_text(hit.key)
        text = original
        if passage.start == 0 and text.lstrip().startswith(article.title):
            # The title is shown above the snippet already: don't repeat it.
            body = text.lstrip()[len(article.title) :]
            text = body if body.strip() else text
        positive = (*parsed.terms, *parsed.phrases)
        own = query_tokens(self._analyzers, passage.lang, positive)
        spans = find_matches(self._analyzers, passage.lang, text, own) if snippets else []
        via_translation = False
        if snippets and passage.lang in translations:
            translated = query_tokens(self._analyzers, passage.lang, [translations[passage.lang]])
            extra = find_matches(self._analyzers, passage.lang, text, translated - own)
            via_translation = not spans and bool(extra) and "lexical" in hit.legs
            spans = sorted(set(spans) | set(extra))
        lexical = hit.legs.get("lexical")
        semantic = hit.legs.get("semantic")
        return SearchResult(
            article_id=article.id,
            passage_id=passage.passage_id,
            title=article.title,
            text=original.strip(),
            snippet=render_snippet(text, spans) if snippets else "",
            lang=passage.lang,
            start=passage.start,
            end=passage.end,
            date=article.date,
            source=article.source,
            url=article.url,
            score=round(hit.score, 6),
            lexical=LegRank(lexical.rank, round(lexical.score, 4)) if lexical else None,
            semantic=LegRank(semantic.rank, round(semantic.score, 4)) if semantic else None,
            via_translation=via_translation,
        )

    # -- articles and health ---------------------------------------------------------

    def article(self, article_id: str) -> ArticleView:
        snapshot = self._loaded.snapshot
        article = snapshot.articles.get(article_id)
        if article is None:
            raise ArticleNotFoundError(article_id)
        passages = [snapshot.passages[row] for row in snapshot.passages_by_article[article_id]]
        return ArticleView(
            id=article.id,
            title=article.title,
            text=article.text,
            lang=article.lang,
            date=article.date,
            source=article.source,
            url=article.url,
            passages=[
                {"passage_id": p.passage_id, "lang": p.lang, "start": p.start, "end": p.end}
                for p in passages
            ],
        )

    def health(self) -> dict[str, object]:
        snapshot = self._loaded.snapshot
        manifest = snapshot.manifest
        degraded = list(self.degraded)
        if not self.translation_available:
            degraded.append("query translation off: Apertium unavailable or disabled")
        if not manifest.translation.enabled:
            degraded.append(f"index built without translation ({manifest.translation.reason})")
        return {
            "status": "degraded" if degraded else "ok",
            "generation": manifest.generation,
            "built_at": manifest.created_at,
            "articles": manifest.articles,
            "passages": manifest.passages,
            "passages_by_language": manifest.passages_by_language,
            "model": {
                "name": manifest.model.name,
                "dimension": manifest.model.dimension,
                "multilingual": manifest.model.multilingual,
            },
            "translation": {
                "query": self.translation_available,
                "index": manifest.translation.enabled,
                "embedding_pivot": manifest.translation.embedding_pivot,
            },
            "degraded": degraded,
        }
