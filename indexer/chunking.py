"""Splitting articles into passages on sentence boundaries, sized in model tokens.

Length is measured with the embedding model's own tokenizer, not in words: a
Spanish sentence takes ~1.7x the word-pieces of its English twin, and
all-MiniLM-L6-v2 silently truncates after 256 tokens, so a passage sized in words
would be half invisible to the dense retriever.

Guarantees (tested):
- every character of the text lies in at least one passage, and each passage is
  the exact slice `text[start:end]` of its article;
- no passage exceeds `max_tokens` (unless one single word does, which is cut by
  characters);
- neighbours share up to `overlap_tokens` worth of whole sentences, so a fact
  that straddles a boundary is whole in one of them;
- a passage never mixes paragraphs that `language_of` says are in different
  languages, so an English article quoting a Spanish tweet yields a Spanish passage,
  and `chunk_passages` labels each passage with that language.

Cost is linear in the text: sentences are found by one regular expression, tokens
are counted in batches by the model's fast tokenizer (the bulk of the time, about
1 s per MB on one core), and `language_of` is asked once per paragraph.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from indexer.language import count_letters

__all__ = [
    "ChunkingOptions",
    "LabelledSpan",
    "Span",
    "TokenCounter",
    "chunk_passages",
    "chunk_text",
    "split_sentences",
]

TokenCounter = Callable[[Sequence[str]], list[int]]
"""Counts the model's tokens (no special tokens) of each text."""
ProgressCallback = Callable[[int], None]
"""Told how many more characters of the text have been processed."""

_SENTENCE_BREAK = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|\n\s*")
_WORD = re.compile(r"\S+\s*")
# Paragraphs shorter than this inherit the language of the previous one: a few
# letters are not enough to call a language change.
_MIN_LETTERS_FOR_LANGUAGE = 40
# Sentences per call of the token counter: large batches for the fast tokenizer,
# small enough for progress to move on a multi-megabyte article.
_COUNT_BATCH = 2048


@dataclass(frozen=True, slots=True)
class ChunkingOptions:
    max_tokens: int = 192
    overlap_tokens: int = 48

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise ValueError(f"max_tokens={self.max_tokens} is too small; use at least 8.")
        if not 0 <= self.overlap_tokens < self.max_tokens:
            raise ValueError(
                f"overlap_tokens={self.overlap_tokens} must be in "
                f"[0, max_tokens={self.max_tokens})."
            )


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int  # exclusive; character offsets into the article text


@dataclass(frozen=True, slots=True)
class LabelledSpan:
    start: int
    end: int
    language: str | None  # of its paragraphs; None if none was long enough to tell


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    tokens: int
    segment: int  # index of the same-language run of paragraphs it belongs to


def split_sentences(text: str) -> list[Span]:
    """Contiguous sentence spans that tile the text exactly (trailing space included)."""
    spans: list[Span] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        end = match.end()
        if end <= start:
            continue
        if text[start:end].strip():
            spans.append(Span(start, end))
            start = end
    if start < len(text):
        if text[start:].strip() or not spans:
            spans.append(Span(start, len(text)))
        else:
            spans[-1] = Span(spans[-1].start, len(text))
    if spans and spans[0].start > 0:
        spans[0] = Span(0, spans[0].end)
    return spans


def chunk_text(
    text: str,
    *,
    count_tokens: TokenCounter,
    options: ChunkingOptions = ChunkingOptions(),
    language_of: Callable[[str], str] | None = None,
) -> list[Span]:
    passages = chunk_passages(
        text, count_tokens=count_tokens, options=options, language_of=language_of
    )
    return [Span(p.start, p.end) for p in passages]


def chunk_passages(
    text: str,
    *,
    count_tokens: TokenCounter,
    options: ChunkingOptions = ChunkingOptions(),
    language_of: Callable[[str], str] | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[LabelledSpan]:
    """`chunk_text`, with each passage's language. `on_progress` hears about the
    characters whose tokens have been counted."""
    if not text:
        return []
    sentences = split_sentences(text)
    segments, languages = _language_segments(text, sentences, language_of)
    counts = _count_in_batches(text, sentences, count_tokens, on_progress)
    units: list[_Unit] = []
    for sentence, tokens, segment in zip(sentences, counts, segments, strict=True):
        if tokens <= options.max_tokens:
            units.append(_Unit(sentence.start, sentence.end, tokens, segment))
        else:
            units.extend(_split_long(text, sentence, segment, count_tokens, options.max_tokens))
    return [
        LabelledSpan(start, end, languages[segment])
        for start, end, segment in _pack(units, options)
    ]


def _count_in_batches(
    text: str,
    sentences: list[Span],
    count_tokens: TokenCounter,
    on_progress: ProgressCallback | None,
) -> list[int]:
    counts: list[int] = []
    for at in range(0, len(sentences), _COUNT_BATCH):
        batch = sentences[at : at + _COUNT_BATCH]
        counts += count_tokens([text[s.start : s.end] for s in batch])
        if on_progress is not None:
            on_progress(batch[-1].end - batch[0].start)
    return counts


def _language_segments(
    text: str, sentences: list[Span], language_of: Callable[[str], str] | None
) -> tuple[list[int], list[str | None]]:
    """Segment number per sentence, and the language of each segment: the number
    changes where the paragraph language changes."""
    if language_of is None:
        return [0] * len(sentences), [None]
    segment, current_language = 0, None
    result: list[int] = []
    languages: list[str | None] = [None]
    paragraph: list[int] = []

    def close_paragraph() -> None:
        nonlocal segment, current_language
        if not paragraph:
            return
        chunk = text[sentences[paragraph[0]].start : sentences[paragraph[-1]].end]
        if count_letters(chunk, enough=_MIN_LETTERS_FOR_LANGUAGE) >= _MIN_LETTERS_FOR_LANGUAGE:
            language = language_of(chunk)
            if current_language is not None and language != current_language:
                segment += 1
                languages.append(None)
            current_language = languages[segment] = language
        result.extend([segment] * len(paragraph))
        paragraph.clear()

    for index, sentence in enumerate(sentences):
        paragraph.append(index)
        if text[sentence.start : sentence.end].rstrip(" \t\r\f\v").endswith("\n"):
            close_paragraph()
    close_paragraph()
    return result, languages


def _split_long(
    text: str, sentence: Span, segment: int, count_tokens: TokenCounter, max_tokens: int
) -> list[_Unit]:
    """A sentence over the limit becomes word-run units that each fit."""
    words = [
        Span(sentence.start + m.start(), sentence.start + m.end())
        for m in _WORD.finditer(text[sentence.start : sentence.end])
    ]
    if not words:
        return [_Unit(sentence.start, sentence.end, 0, segment)]
    words[0] = Span(sentence.start, words[0].end)
    counts = count_tokens([text[w.start : w.end] for w in words])
    units: list[_Unit] = []
    start, total = words[0].start, 0
    for word, tokens in zip(words, counts, strict=True):
        if tokens > max_tokens:  # one monstrous "word" (a URL, base64): cut by characters
            if total:
                units.append(_Unit(start, word.start, total, segment))
            units.extend(_cut_word(word, tokens, max_tokens, segment))
            start, total = word.end, 0
            continue
        if total + tokens > max_tokens and total:
            units.append(_Unit(start, word.start, total, segment))
            start, total = word.start, 0
        total += tokens
    if start < sentence.end:
        units.append(_Unit(start, sentence.end, total, segment))
    return units


def _cut_word(word: Span, tokens: int, max_tokens: int, segment: int) -> list[_Unit]:
    """Pieces of at most `max_tokens // 2` characters: a word-piece token spans at
    least one character, so no piece can exceed half the limit, and two fit in one
    passage. (Words over 100 characters are one [UNK] to BERT tokenizers anyway.)"""
    step = max(1, max_tokens // 2)
    return [
        _Unit(at, min(at + step, word.end), min(step, word.end - at), segment)
        for at in range(word.start, word.end, step)
    ]


def _pack(units: list[_Unit], options: ChunkingOptions) -> list[tuple[int, int, int]]:
    """Passages as (start, end, segment): units packed up to the limit, never across
    a language change, neighbours sharing whole trailing units up to the overlap."""
    passages: list[tuple[int, int, int]] = []
    current: list[_Unit] = []
    total = 0
    for unit in units:
        fits = total + unit.tokens <= options.max_tokens
        same_language = not current or current[-1].segment == unit.segment
        if current and (not fits or not same_language):
            passages.append((current[0].start, current[-1].end, current[0].segment))
            current = _overlap(current, unit, options) if same_language else []
            total = sum(u.tokens for u in current)
        current.append(unit)
        total += unit.tokens
    if current:
        passages.append((current[0].start, current[-1].end, current[0].segment))
    return passages


def _overlap(previous: list[_Unit], next_unit: _Unit, options: ChunkingOptions) -> list[_Unit]:
    """Trailing whole sentences of the previous passage to repeat, if they fit."""
    carried: list[_Unit] = []
    budget = min(options.overlap_tokens, options.max_tokens - next_unit.tokens)
    for unit in reversed(previous[1:]):  # never carry the whole previous passage
        if unit.tokens > budget:
            break
        carried.insert(0, unit)
        budget -= unit.tokens
    return carried
