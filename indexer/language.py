"""Deterministic language detection with langdetect, tuned for English/Spanish.

langdetect is randomised (it samples n-grams), so a detector built from our own
factory with a fixed seed gives the same answer every run. Restricting the
profiles to the languages that matter makes short texts far more accurate: with
all 55 profiles a Spanish headline is often called Portuguese or Catalan. A few
other European languages stay in the set so that a passage in a third language is
labelled as such (and indexed with a plain folding analyzer) instead of being
forced into English or Spanish; short texts are only ever called en or es.
"""

from __future__ import annotations

import threading
from pathlib import Path

__all__ = ["PRIMARY_LANGUAGES", "UNDETERMINED", "LanguageDetector"]

PRIMARY_LANGUAGES = ("en", "es")
UNDETERMINED = "und"
_SECONDARY_LANGUAGES = ("fr", "de", "it", "pt")
# Below this many letters only en/es are considered: short texts are too noisy
# for a third-language verdict.
_MIN_LETTERS_FOR_OTHER = 60
_MIN_OTHER_PROBABILITY = 0.90


class LanguageDetector:
    """`detect(text) -> "en" | "es" | other ISO code | "und"`; thread-safe, deterministic."""

    def __init__(self, *, seed: int = 0) -> None:
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

        def factory_for(codes: tuple[str, ...]) -> DetectorFactory:
            factory = DetectorFactory()
            factory.seed = seed
            profiles = [
                (Path(PROFILES_DIRECTORY) / code).read_text(encoding="utf-8") for code in codes
            ]
            factory.load_json_profile(profiles)
            return factory

        self._primary = factory_for(PRIMARY_LANGUAGES)
        self._wide = factory_for(PRIMARY_LANGUAGES + _SECONDARY_LANGUAGES)
        self._lock = threading.Lock()

    def detect(self, text: str, *, hint: str | None = None) -> str:
        """The language of `text`. `hint` (e.g. JSONL `lang`) only breaks near-ties."""
        from langdetect.lang_detect_exception import LangDetectException

        letters = sum(ch.isalpha() for ch in text)
        if letters == 0:
            return UNDETERMINED
        sample = text[:4000]
        with self._lock:
            try:
                if letters >= _MIN_LETTERS_FOR_OTHER:
                    detector = self._wide.create()
                    detector.append(sample)
                    ranked = detector.get_probabilities()
                    top = ranked[0]
                    if top.lang not in PRIMARY_LANGUAGES and top.prob >= _MIN_OTHER_PROBABILITY:
                        return str(top.lang)
                detector = self._primary.create()
                detector.append(sample)
                ranked = detector.get_probabilities()
            except LangDetectException:
                return UNDETERMINED
        if not ranked:
            return UNDETERMINED
        best = ranked[0]
        if hint in PRIMARY_LANGUAGES and best.lang != hint and best.prob < 0.75:
            return hint
        return str(best.lang)
