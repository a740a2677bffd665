"""The query in the other language: cached, rested after failures, never trusted blindly.

Apertium translates a short query in a few ms per direction over a persistent
pipeline. The query's language is not detected (langdetect is unreliable on a few
words): it is translated both ways at once, es->en and en->es, and a "translation"
that mostly repeats the input is dropped, because Apertium passes words it does not
know through unchanged: an English query "translated" from Spanish comes back as
itself. Where the query's function words make its language evident
(`search.query_language_hint`), the caller says so and only the direction out of
it runs.

Names are kept out of Apertium's reach (`search.name_protection`: "Sonora" is
not "Audible"), and the repeats test only looks at the words left to translate:
"Tierra Caliente violencia" -> "Tierra Caliente violence" translated its one
translatable word, though it repeats two of three.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from search.case_vocabulary import CaseVocabulary
from search.lru import LruCache
from search.name_protection import translate_keeping_names

__all__ = ["QueryTranslations", "QueryTranslator", "Translator", "TranslatorPool"]

log = logging.getLogger(__name__)

_BACKOFF_S = 30.0
# A translation that mostly repeats the original was not really translated (the
# text was already in the target language; Apertium passes unknown words through).
_MAX_SHARED_WORDS = 0.6
_DIRECTIONS = (("es", "en"), ("en", "es"))


class Translator(Protocol):
    """What the query side needs of a translator (`ApertiumTranslator` is one)."""

    def translate(self, text: str, *, source: str, target: str) -> str | None: ...

    def close(self) -> None: ...


class PendingTranslation(Protocol):
    def result(self) -> str | None: ...


@runtime_checkable
class StartingTranslator(Translator, Protocol):
    """A translator that can also begin a translation and be asked for it later
    (`ApertiumTranslator.start`); None: not now, translate as usual."""

    def start(self, text: str, *, source: str, target: str) -> PendingTranslation | None: ...


class TranslatorPool:
    """Several translators taken in turn, so concurrent queries do not queue on one.

    An Apertium pipeline answers one request at a time per direction (~1 ms); with
    many clients, requests waited on its lock. Each translator in the pool has its
    own pipelines (about ten processes per direction), and each direction has its
    own queue of idle translators: a translator busy with es->en can still serve
    en->es, as `ApertiumTranslator` runs its two directions in parallel.
    """

    def __init__(self, translators: Sequence[Translator], *, wait_s: float = 1.0) -> None:
        if not translators:
            raise ValueError("A translator pool needs at least one translator.")
        self._all = list(translators)
        self._idle: dict[tuple[str, str], queue.Queue[Translator]] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._wait_s = wait_s

    def add(self, translator: Translator) -> None:
        """One more translator, from now on (one whose pipelines have just started,
        say); a pool already closed closes it at once instead."""
        with self._lock:
            if not self._closed:
                self._all.append(translator)
                for idle in self._idle.values():
                    idle.put(translator)
                return
        translator.close()

    def translate(self, text: str, *, source: str, target: str) -> str | None:
        idle = self._idle_for(source, target)
        try:
            translator = idle.get(timeout=self._wait_s)
        except queue.Empty:  # every pipeline busy for a whole second: treat as failed
            return None
        try:
            return translator.translate(text, source=source, target=target)
        finally:
            idle.put(translator)

    def start(self, text: str, *, source: str, target: str) -> PendingTranslation | None:
        """An idle translator's `start`, that translator given back with the result;
        None at once when none is idle."""
        idle = self._idle_for(source, target)
        try:
            translator = idle.get_nowait()
        except queue.Empty:
            return None
        pending = None
        if isinstance(translator, StartingTranslator):
            pending = translator.start(text, source=source, target=target)
        if pending is None:
            idle.put(translator)
            return None
        return _GivenBack(pending, lambda: idle.put(translator))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            translators = list(self._all)
        for translator in translators:
            translator.close()

    def _idle_for(self, source: str, target: str) -> queue.Queue[Translator]:
        idle = self._idle.get((source, target))
        if idle is None:
            with self._lock:
                idle = self._idle.get((source, target))
                if idle is None:
                    idle = queue.Queue()
                    for translator in self._all:
                        idle.put(translator)
                    self._idle[source, target] = idle
        return idle


class _GivenBack:
    """A pooled translator's pending translation; its result gives the translator
    back to the pool, once."""

    def __init__(self, pending: PendingTranslation, give_back: Callable[[], None]) -> None:
        self._pending = pending
        self._give_back: Callable[[], None] | None = give_back

    @property
    def core(self) -> int | None:
        return _core_of(self._pending)

    def result(self) -> str | None:
        try:
            return self._pending.result()
        finally:
            give_back, self._give_back = self._give_back, None
            if give_back is not None:
                give_back()


@dataclass(frozen=True, slots=True)
class QueryTranslations:
    """Target language -> translated query, and what went wrong, for the response.

    `phrases`: each quoted phrase -> target language -> its own translation, so
    that a phrase can be required in the other language's passages too.
    `language`: the language the query reads as, when known: evident from its
    function words (`search.query_language_hint`), or the source of the one
    direction that changed it while the other ran and only repeated it. None when
    neither says (a name, a direction that failed, translation unavailable).
    """

    texts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    phrases: dict[str, dict[str, str]] = field(default_factory=dict)
    language: str | None = None

    def without(self, languages: Collection[str]) -> QueryTranslations:
        """The same, less the translations into `languages` (a request's skip list);
        the query reads as the same language still."""
        return QueryTranslations(
            texts={lang: text for lang, text in self.texts.items() if lang not in languages},
            notes=self.notes,
            phrases={
                phrase: {lang: text for lang, text in texts.items() if lang not in languages}
                for phrase, texts in self.phrases.items()
            },
            language=self.language,
        )


class QueryTranslator:
    """Translates queries both ways with a cache and per-direction back-off.

    A hung translator costs its timeout on every query; after a failure the
    direction rests for `_BACKOFF_S` seconds, keeping searches fast (untranslated)
    meanwhile. Failures are never cached: a later call may work.
    """

    def __init__(self, translator: Translator | None, *, enabled: bool = True) -> None:
        self._translator = translator
        self._enabled = enabled
        self._cache: LruCache[tuple[str, str, str], str] = LruCache(2048)
        self._resting_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._starting = translator if isinstance(translator, StartingTranslator) else None
        self._head_start = threading.local()  # .pending: (cache key, PendingTranslation)
        # The first direction runs here while the calling thread does the second.
        self._helpers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="translate")

    @property
    def available(self) -> bool:
        return self._translator is not None and self._enabled

    def translate(
        self,
        text: str,
        *,
        names: CaseVocabulary | None = None,
        phrases: Sequence[str] = (),
        language: str | None = None,
    ) -> QueryTranslations:
        """Both directions' translations that changed something, of `text` and of each
        of its quoted `phrases`; `names` tells which words are names to keep (None:
        Apertium translates every word). With the query's `language` known ("en" or
        "es", `search.query_language_hint`), only the direction out of it runs: the
        other would mostly repeat the query and be dropped, after ~3 ms of CPU."""
        if not self.available:
            return QueryTranslations(
                notes=["translation unavailable: results match the query's own language only"],
                language=language,
            )
        directions = _directions(language)
        outcomes = self._each_way(text, names, directions)
        result = QueryTranslations(language=language or _reads_as(outcomes))
        for (source, target), translated in outcomes.items():
            if translated is None:  # this direction only; the other may still help
                result.notes.append(f"translation {source}->{target} failed; searched without it")
            elif translated:
                result.texts[target] = translated
        for phrase in phrases:
            each = self._each_way(phrase, names, directions).items()
            result.phrases[phrase] = {target: text for (_, target), text in each if text}
        return result

    def _each_way(
        self,
        text: str,
        names: CaseVocabulary | None,
        directions: Sequence[tuple[str, str]] = _DIRECTIONS,
    ) -> dict[tuple[str, str], str | None]:
        """(source, target) -> translation: "" when it only repeats `text`, None when
        the direction failed. Two directions run at once (each is its own Apertium
        pipeline, 3-5 ms for a query's line): a query waits for the slower one, not
        their sum. One direction runs on the calling thread alone."""

        def one_way(source: str, target: str) -> str | None:
            translated = translate_keeping_names(
                text,
                functools.partial(self._translate_cached, source=source, target=target),
                names,
                source=source,
                target=target,
            )
            if translated is None:
                return None
            words = translated.returned_words
            given = set(translated.given_words)
            shared = sum(1 for w in words if w in given) / max(len(words), 1)
            return translated.text if words and shared < _MAX_SHARED_WORDS else ""

        *others, last = directions
        pending = {pair: self._helpers.submit(one_way, *pair) for pair in others}
        translated = {last: one_way(*last)}
        return {**{pair: future.result() for pair, future in pending.items()}, **translated}

    @contextlib.contextmanager
    def head_start(self, text: str, *, language: str | None = None) -> Iterator[bool]:
        """Within the block, this thread's `translate(text, language=language)` finds
        its first Apertium call under way: `text` goes into a pipeline now, and the
        caller works meanwhile. Yields whether it went (not when cached, resting,
        or with every pipeline busy: the caller may then translate elsewhere as
        before). A block left without that call still reads the answer, into the
        cache, so no pipeline is left holding it.

        The engine embeds an English query in the block. It used to hand the
        translation to a helper thread, whose wake-up (~0.3 ms on these machines)
        delayed Apertium's start, and wait for the helper again at the end.
        """
        source, target = _directions(language)[-1]  # `_each_way` runs it on this thread
        key = (text, source, target)
        pending = None
        if (
            self._starting is not None
            and self._enabled
            and self._cache.get(key) is None
            and not self._resting(source)
        ):
            pending = self._starting.start(text, source=source, target=target)
        if pending is None:
            yield False
            return
        self._head_start.pending = (key, pending)
        try:
            yield True
        finally:
            left = getattr(self._head_start, "pending", None)
            self._head_start.pending = None
            if left is not None:
                self._settled(key, left[1].result())

    def head_start_core(self) -> int | None:
        """The core this thread's head start is being translated on (its pipeline's
        stages all run there), if one is under way and its stages were kept to one
        core: the caller's work meanwhile belongs on another (`search.thread_cores`)."""
        pending = getattr(self._head_start, "pending", None)
        return _core_of(pending[1]) if pending is not None else None

    def warm_up(self) -> None:
        """Start the pipelines now, so the first user query does not pay their start-up."""
        if self.available:
            self._each_way("warm up", None)

    def clear_cache(self) -> None:
        self._cache.clear()

    def _translate_cached(self, text: str, source: str, target: str) -> str | None:
        assert self._translator is not None
        key = (text, source, target)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        head_start = getattr(self._head_start, "pending", None)
        if head_start is not None and head_start[0] == key:
            self._head_start.pending = None
            return self._settled(key, head_start[1].result())
        if self._resting(source):
            return None
        return self._settled(key, self._translator.translate(text, source=source, target=target))

    def _resting(self, source: str) -> bool:
        with self._lock:
            return time.monotonic() < self._resting_until.get(source, 0.0)

    def _settled(self, key: tuple[str, str, str], translated: str | None) -> str | None:
        """A translation cached; a failure rests its direction instead (never cached)."""
        _, source, target = key
        if translated is None:
            with self._lock:
                self._resting_until[source] = time.monotonic() + _BACKOFF_S
            log.warning(
                "translation %s->%s failed; resting it for %s s", source, target, _BACKOFF_S
            )
            return None
        self._cache.put(key, translated)
        return translated


def _core_of(pending: PendingTranslation) -> int | None:
    """`pending.core` where the translator says (`ApertiumTranslator` does), else None."""
    core = getattr(pending, "core", None)
    return core if isinstance(core, int) else None


def _reads_as(outcomes: dict[tuple[str, str], str | None]) -> str | None:
    """The source language of the one direction that changed the query, when the
    other direction ran and only repeated it (`_each_way`: "" is a repeat, None a
    failure); else None."""
    changed = [source for (source, _), text in outcomes.items() if text]
    repeated = [source for (source, _), text in outcomes.items() if text == ""]
    return changed[0] if len(changed) == 1 and len(repeated) == 1 else None


def _directions(language: str | None) -> tuple[tuple[str, str], ...]:
    """The directions a query of `language` is translated in (None: both)."""
    if language is None:
        return _DIRECTIONS
    directions = tuple(pair for pair in _DIRECTIONS if pair[0] == language)
    if not directions:
        raise ValueError(f"No translation out of language {language!r}: 'en' or 'es'.")
    return directions
