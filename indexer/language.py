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

import functools
import re
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
# Words in capitals (NASA, MBH99) say little about a language; langdetect skips them.
_ACRONYM = re.compile(r"\b[A-Z]{2,}")


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
    once, in numpy. Text is normalised as langdetect does (URLs, e-mail addresses
    and capitalised acronyms removed, characters folded by its `NGram.normalize`).

    The profiles' n-grams use 85 characters. Each character of the text becomes the
    index of its folded form in that alphabet (0: in no n-gram, 1: space), so every
    1-, 2- and 3-gram is a position in a small table holding its profile row, or -1.
    Grams that span two words, or hold an unknown character, are in no profile and
    score nothing, as in langdetect."""

    def __init__(self, factory: Any) -> None:
        from langdetect.detector import Detector

        self.languages: tuple[str, ...] = tuple(factory.langlist)
        probabilities: dict[str, list[float]] = factory.word_lang_prob_map
        smoothing = Detector.ALPHA_DEFAULT / Detector.BASE_FREQ  # as langdetect weighs unseen
        self._logs = np.log(smoothing + np.array(list(probabilities.values())))
        characters = "".join(sorted(set("".join(probabilities)) - {" "}))
        self._size = len(characters) + 2
        self._alphabet = _folded_alphabet(characters)
        self._tables = [np.full(self._size**n, -1, dtype=np.int64) for n in (1, 2, 3)]
        for row, gram in enumerate(probabilities):
            key = 0
            for character in gram:
                key = key * self._size + int(self._alphabet[ord(character)])
            self._tables[len(gram) - 1][key] = row
        self._url, self._mail = Detector.URL_RE, Detector.MAIL_RE

    def scores(self, text: str) -> npt.NDArray[np.float64]:
        if "://" in text:
            text = self._url.sub(" ", text)
        if "@" in text:
            text = self._mail.sub(" ", text)
        padded = f" {_ACRONYM.sub(' ', text)} ".encode("utf-32-le", "surrogatepass")
        codes = np.minimum(np.frombuffer(padded, dtype=np.uint32), 0xFFFF)
        single = self._alphabet[codes]
        pairs = single[:-1] * self._size + single[1:]
        triples = pairs[:-1] * self._size + single[2:]
        unigrams, bigrams, trigrams = self._tables
        rows = np.concatenate((unigrams[single], bigrams[pairs], trigrams[triples]))
        counts = np.bincount(rows[rows >= 0], minlength=len(self._logs))
        result: npt.NDArray[np.float64] = counts @ self._logs
        return result


@functools.cache
def _folded_alphabet(characters: str) -> npt.NDArray[np.int64]:
    """Code point (BMP) -> index of its langdetect-folded form among `characters`,
    counted from 2; 1 for what folds to a space, 0 for anything else."""
    from langdetect.utils.ngram import NGram

    index = {character: number for number, character in enumerate(characters, start=2)}
    index[" "] = 1
    alphabet = np.zeros(0x10000, dtype=np.int64)
    for code in range(0x3000):  # Latin, Greek, Cyrillic, punctuation: all that folds
        alphabet[code] = index.get(NGram.normalize(chr(code)), 0)
    for character, number in index.items():
        if ord(character) >= 0x3000:
            alphabet[ord(character)] = number
    return alphabet
