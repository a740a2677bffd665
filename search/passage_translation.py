"""Machine translation of an article's passages on demand, for a person to read.

The index holds passages' translations only as search terms, not as text, so the
article page asks for a passage's translation when a reader opens it: Apertium,
~50 ms for a passage, cached by text and direction (a passage opened once is
usually opened again, by the same reader going back and forth).
"""

from __future__ import annotations

from search.lru import LruCache
from search.query_translation import Translator

__all__ = ["PassageTranslator", "translation_target"]

_OTHER = {"en": "es", "es": "en"}


def translation_target(lang: str) -> str | None:
    """The language a passage in `lang` is translated into; None for a third language."""
    return _OTHER.get(lang)


class PassageTranslator:
    def __init__(self, translator: Translator | None, *, enabled: bool = True) -> None:
        self._translator = translator if enabled else None
        self._cache: LruCache[tuple[str, str, str], str] = LruCache(512)

    @property
    def available(self) -> bool:
        return self._translator is not None

    def translate(self, text: str, *, source: str, target: str) -> str | None:
        """The translation, or None when translation is unavailable or failed."""
        if self._translator is None:
            return None
        key = (text, source, target)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        translated = self._translator.translate(text, source=source, target=target)
        if translated is not None:  # failures are not cached: a later call may work
            self._cache.put(key, translated)
        return translated
