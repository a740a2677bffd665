"""Deterministic language detection with langdetect, tuned for English/Spanish.

langdetect is randomised (it samples n-grams), so a detector built from our own
factory with a fixed seed gives the same answer every run. Restricting the
profiles to the languages that matter makes short texts far more accurate: with
all 55 profiles a Spanish headline is often called Portuguese or Catalan. A few
other European languages stay in the set so that a passage in a third language is
labelled as such (and indexed with a plain folding analyzer) instead of being
forced into English or Spanish; short texts are only ever called en or es.

langdetect is slow (pure Python, ~3 µs per character of its sample plus seven
sampled trials: ~5 ms a paragraph), and a long article has thousands of
paragraphs that are almost all in the language of the one before. So `detect`
takes that language as `previous`, and a naive-Bayes score over langdetect's own
n-gram profiles, computed on every n-gram at once in numpy (~0.1 ms), keeps it
when it clearly wins; anything less clear still goes to langdetect.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PRIMARY_LANGUAGES", "UNDETERMINED", "LanguageDetector", "count_letters"]

PRIMARY_LANGUAGES = ("en", "es")
UNDETERMINED = "und"
_SECONDARY_LANGUAGES = ("fr", "de", "it", "pt")
# Below this many letters only en/es are considered: short texts are too noisy
# for a third-language verdict.
_MIN_LETTERS_FOR_OTHER = 60
_MIN_OTHER_PROBABILITY = 0.90
# langdetect reads this much of a text: a bounded sample, whatever the paragraph's size.
_SAMPLE_CHARS = 4000
# `previous` is kept without langdetect when its naive-Bayes log-likelihood beats
# every other candidate's by this many nats (a likelihood ratio of e^20). On the
# 480 XQuAD paragraphs the margin of the right language is 74 nats or more, and
# the two detectors never disagree; a near-tie always goes to langdetect.
_CLEAR_MARGIN_NATS = 20.0


def count_letters(text: str, *, enough: int) -> int:
    """Letters in `text`, counted in slices until `enough` are found (a text may be
    megabytes long and only the thresholds matter)."""
    count = 0
    for start in range(0, len(text), 256):
        count += sum(map(str.isalpha, text[start : start + 256]))
        if count >= enough:
            break
    return count


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
        self._scorer = _NaiveBayes(self._wide)
        self._lock = threading.Lock()

    def detect(self, text: str, *, hint: str | None = None, previous: str | None = None) -> str:
        """The language of `text`. `hint` (e.g. JSONL `lang`) only breaks near-ties.

        `previous`: the language of the text just before this one (the previous
        paragraph), kept without running langdetect when it clearly wins."""
        from langdetect.lang_detect_exception import LangDetectException

        letters = count_letters(text, enough=_MIN_LETTERS_FOR_OTHER)
        if letters == 0:
            return UNDETERMINED
        sample = text[:_SAMPLE_CHARS]
        wide = letters >= _MIN_LETTERS_FOR_OTHER
        with self._lock:
            if previous is not None and self._clearly(sample, previous, wide=wide):
                return previous
            try:
                if wide:
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

    def _clearly(self, sample: str, language: str, *, wide: bool) -> bool:
        """Does `language` beat every candidate by `_CLEAR_MARGIN_NATS`? Short texts
        (not `wide`) have only en and es as candidates, as in `detect`."""
        candidates = self._scorer.languages if wide else PRIMARY_LANGUAGES
        if language not in candidates:
            return False
        scores = self._scorer.scores(sample)
        mine = scores[self._scorer.languages.index(language)]
        best_other = max(
            scores[self._scorer.languages.index(other)] for other in candidates if other != language
        )
        return bool(mine - best_other >= _CLEAR_MARGIN_NATS)


class _NaiveBayes:
    """Log-likelihood of a text under each of langdetect's profiles, summed over all
    of its 1- to 3-grams: what langdetect estimates from random samples, computed
    once, in numpy. Text is normalised as langdetect does (URLs and e-mail addresses
    removed, characters folded by its `NGram.normalize`, all-capital words left out);
    n-grams never cross a word boundary, as in langdetect.

    An n-gram is an integer key of 21 bits per code point; folding turns every
    ASCII non-letter into a space, so no code point is below 32 and keys of
    different lengths never collide."""

    def __init__(self, factory: Any) -> None:
        from langdetect.detector import Detector
        from langdetect.utils.ngram import NGram

        self.languages: tuple[str, ...] = tuple(factory.langlist)
        probabilities: dict[str, list[float]] = factory.word_lang_prob_map
        keys = np.array([_gram_key(gram) for gram in probabilities], dtype=np.int64)
        order = np.argsort(keys)
        smoothing = Detector.ALPHA_DEFAULT / Detector.BASE_FREQ  # as langdetect weighs unseen
        self._keys = keys[order]
        self._logs = np.log(smoothing + np.array(list(probabilities.values())))[order]
        self._cleaners = (Detector.URL_RE, Detector.MAIL_RE)
        self._folding = {
            code: folded
            for code in range(0x3000)  # Latin, Greek, Cyrillic, punctuation: all we score
            if (folded := NGram.normalize(chr(code))) != chr(code)
        }

    def scores(self, text: str) -> npt.NDArray[np.float64]:
        for pattern in self._cleaners:
            text = pattern.sub(" ", text)
        words = [word for word in text.translate(self._folding).split() if not _all_capitals(word)]
        # Two spaces between words: a gram across them holds "  ", which no profile has.
        padded = " " + "  ".join(words) + " "
        codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        keys = np.concatenate(
            [
                codes[codes != ord(" ")],
                (codes[:-1] << 21) | codes[1:],
                (codes[:-2] << 42) | (codes[1:-1] << 21) | codes[2:],
            ]
        )
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        result: npt.NDArray[np.float64] = self._logs[at[self._keys[at] == keys]].sum(axis=0)
        return result


def _gram_key(gram: str) -> int:
    key = 0
    for character in gram:
        key = (key << 21) | ord(character)
    return key


def _all_capitals(word: str) -> bool:
    return len(word) > 1 and word.isupper()
