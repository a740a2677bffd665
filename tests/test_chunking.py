"""Chunking: passages tile the article, overlap, and fit the model's token limit.

Limits are checked with the real tokenizer (the session's model): a passage sized
by a cheaper measure can be longer than the model reads. The pure guarantees
(coverage, exact slices, limit under the counter given) also get a property test
with a cheap counter of one token per word.
"""

from __future__ import annotations

import base64
import itertools
import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.chunking import (
    ChunkingOptions,
    LabelledSpan,
    Span,
    chunk_passages,
    chunk_text,
    split_sentences,
)
from indexer.encoder import Encoder

ENGLISH = (
    "The storm reached the coast at dawn. Waves flooded the harbour. Fishermen moved "
    "their boats inland. Schools closed for the day. The mayor asked people to stay home. "
    "Power failed in three districts. Crews worked through the afternoon. By evening the "
    "rain had stopped. Roads reopened the next morning. Officials counted the damage. "
    "Insurance claims began to arrive. The port reopened on Friday."
)
SPANISH = (
    "La Secretaría de Seguridad Ciudadana informó que los elementos de la policía "
    "detuvieron a tres presuntos integrantes de una célula delictiva, quienes fueron "
    "trasladados al Ministerio Público para determinar su situación jurídica. "
    "Según las investigaciones, los detenidos cobraban cuotas de extorsión a los "
    "comerciantes del mercado municipal de Iztapalapa desde hace más de dos años. "
)


def count_words(texts: Sequence[str]) -> list[int]:
    """A cheap stand-in tokenizer: one token per whitespace-separated word."""
    return [len(text.split()) for text in texts]


def assert_tiles(text: str, spans: list[Span]) -> None:
    """Every character is in some passage, passages are in order and in bounds."""
    assert spans, "a non-empty text has passages"
    assert spans[0].start == 0
    assert spans[-1].end == len(text)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
    for before, after in itertools.pairwise(spans):
        assert before.start < after.start, "passages are ordered"
        assert after.start <= before.end, f"gap between {before} and {after}"


def token_counts(encoder: Encoder, text: str, spans: list[Span]) -> list[int]:
    return encoder.count_tokens([text[s.start : s.end] for s in spans])


# --- split_sentences ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("One. Two! Three?", ["One. ", "Two! ", "Three?"]),
        ("  Lead space. Tail space.  ", ["  Lead space. ", "Tail space.  "]),
        ('He said "stop." Then left.', ['He said "stop." ', "Then left."]),
        ("¿Qué pasó? ¡Nada!\n\nOtro párrafo", ["¿Qué pasó? ", "¡Nada!\n\n", "Otro párrafo"]),
        ("Wait… what", ["Wait… ", "what"]),
        ("line one\nline two\n", ["line one\n", "line two\n"]),
        ("   ", ["   "]),
        ("\n\n\n", ["\n\n\n"]),
        ("3.14 is pi. e.g. this", ["3.14 is pi. ", "e.g. ", "this"]),
    ],
)
def test_split_sentences_golden(text: str, expected: list[str]) -> None:
    spans = split_sentences(text)
    assert [text[s.start : s.end] for s in spans] == expected


sentence_text = st.lists(
    st.sampled_from(["word", "Otra", " ", "  ", ".", "!", "?", "…", "\n", "\n\n", "\t", "»", "é"]),
    max_size=80,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(sentence_text)
def test_split_sentences_tiles_the_text_exactly(text: str) -> None:
    spans = split_sentences(text)
    assert "".join(text[s.start : s.end] for s in spans) == text
    for before, after in itertools.pairwise(spans):
        assert before.end == after.start
    for span in spans:
        assert span.start < span.end


# --- pure properties with a cheap counter ---------------------------------------------

chunk_text_input = st.lists(
    st.one_of(
        st.sampled_from([" ", "  ", "\n", "\n\n", ". ", "! ", "? ", "\t", "… "]),
        st.text(alphabet="abcñé", min_size=1, max_size=12),
    ),
    max_size=200,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(chunk_text_input, st.integers(8, 40), st.integers(0, 39))
def test_chunk_text_properties_with_word_counter(text: str, max_tokens: int, overlap: int) -> None:
    options = ChunkingOptions(max_tokens=max_tokens, overlap_tokens=min(overlap, max_tokens - 1))
    spans = chunk_text(text, count_tokens=count_words, options=options)
    if not text:
        assert spans == []
        return
    assert_tiles(text, spans)
    assert max(count_words([text[s.start : s.end] for s in spans])) <= max_tokens


def test_empty_text_has_no_passages() -> None:
    assert chunk_text("", count_tokens=count_words) == []


@pytest.mark.parametrize("text", [" ", "   \n\t  ", "\n\n"])
def test_whitespace_only_text_is_one_passage_covering_it(text: str) -> None:
    assert chunk_text(text, count_tokens=count_words) == [Span(0, len(text))]


def test_short_text_is_a_single_passage() -> None:
    text = "Just one short sentence."
    assert chunk_text(text, count_tokens=count_words) == [Span(0, len(text))]


def test_language_change_starts_a_new_passage_without_overlap() -> None:
    english = "This is an English paragraph with enough letters to be judged on its own.\n"
    spanish = "Este es un párrafo en español con letras suficientes para juzgarlo solo.\n"
    text = english + spanish + english

    def language_of(chunk: str) -> str:
        return "es" if "español" in chunk else "en"

    spans = chunk_text(text, count_tokens=count_words, language_of=language_of)
    assert [text[s.start : s.end] for s in spans] == [english, spanish, english]


def test_short_paragraph_inherits_the_language_of_the_previous_one() -> None:
    text = "A long enough English paragraph to decide its language with confidence.\nOK.\n"
    calls: list[str] = []

    def language_of(chunk: str) -> str:
        calls.append(chunk)
        return "en"

    assert chunk_text(text, count_tokens=count_words, language_of=language_of) == [
        Span(0, len(text))
    ]
    assert calls == [text[: text.index("OK.")]]  # "OK." is too short to be asked about


def test_passages_carry_the_language_of_their_paragraphs() -> None:
    english = "This is an English paragraph with enough letters to be judged on its own.\n"
    spanish = "Este es un párrafo en español con letras suficientes para juzgarlo solo.\n"
    text = "Hi.\n" + english + spanish + "OK.\n" + english

    def language_of(chunk: str) -> str:
        return "es" if "español" in chunk else "en"

    passages = chunk_passages(text, count_tokens=count_words, language_of=language_of)
    assert [(text[p.start : p.end], p.language) for p in passages] == [
        ("Hi.\n" + english, "en"),  # a short first paragraph takes the first verdict
        (spanish + "OK.\n", "es"),  # a short paragraph inherits the one before
        (english, "en"),
    ]
    assert chunk_passages("Short.", count_tokens=count_words) == [LabelledSpan(0, 6, None)]


def test_progress_hears_of_every_character_in_batches() -> None:
    """Tokens are counted in batches of sentences, each batch reported as it is done."""
    sentence = "The storm reached the coast at dawn and the harbour flooded. "
    text = sentence * 5000
    heard: list[int] = []
    spans = chunk_passages(text, count_tokens=count_words, on_progress=heard.append)
    assert_tiles(text, [Span(s.start, s.end) for s in spans])
    assert sum(heard) == len(text)
    assert len(heard) > 2, "a long text reports progress more than once"


@pytest.mark.parametrize(("max_tokens", "overlap"), [(7, 0), (64, 64), (64, -1)])
def test_bad_options_are_rejected(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="tokens"):
        ChunkingOptions(max_tokens=max_tokens, overlap_tokens=overlap)


# --- the real tokenizer ---------------------------------------------------------------


def test_short_sentences_overlap_with_whole_sentences(encoder: Encoder) -> None:
    options = ChunkingOptions(max_tokens=40, overlap_tokens=12)
    spans = chunk_text(ENGLISH, count_tokens=encoder.count_tokens, options=options)
    assert len(spans) >= 3
    assert_tiles(ENGLISH, spans)
    assert max(token_counts(encoder, ENGLISH, spans)) <= 40
    sentence_starts = {s.start for s in split_sentences(ENGLISH)}
    for before, after in itertools.pairwise(spans):
        shared = ENGLISH[after.start : before.end]
        assert shared.strip(), f"no shared text between {before} and {after}"
        assert after.start in sentence_starts, "overlap is made of whole sentences"
        assert encoder.count_tokens([shared])[0] <= 12


def test_passages_start_at_a_word_and_keep_trailing_space(encoder: Encoder) -> None:
    """Cuts fall between words (at sentence ends where possible), never inside one."""
    text = "  " + ENGLISH + "\n\n" + SPANISH * 3
    options = ChunkingOptions(max_tokens=64, overlap_tokens=16)
    spans = chunk_text(text, count_tokens=encoder.count_tokens, options=options)
    assert len(spans) > 4
    assert_tiles(text, spans)
    sentence_starts = {s.start for s in split_sentences(text)}
    for span in spans[1:]:
        assert text[span.start - 1].isspace() and not text[span.start].isspace()
    assert sum(span.start in sentence_starts for span in spans) > len(spans) // 2
    assert max(token_counts(encoder, text, spans)) <= 64


@pytest.mark.parametrize("max_tokens", [64, 192, 254])
def test_spanish_text_respects_the_limit(encoder: Encoder, max_tokens: int) -> None:
    text = SPANISH * 12
    words = len(text.split())
    assert encoder.count_tokens([text])[0] > 1.4 * words, "Spanish costs more tokens than words"
    options = ChunkingOptions(max_tokens=max_tokens, overlap_tokens=max_tokens // 4)
    spans = chunk_text(text, count_tokens=encoder.count_tokens, options=options)
    assert_tiles(text, spans)
    counts = token_counts(encoder, text, spans)
    assert max(counts) <= max_tokens
    # Sized in words, the same passages would be far over the limit: the measure matters.
    assert max(counts) > max(count_words([text[s.start : s.end] for s in spans]))


@pytest.mark.parametrize("language", ["en", "es"])
def test_one_long_sentence_without_punctuation_is_split_by_words(
    encoder: Encoder, language: str
) -> None:
    sentence = {
        "en": "the police arrested three suspects near the market on monday",
        "es": "la policía detuvo ayer a los presuntos extorsionadores del mercado",
    }[language]
    vocabulary = sentence.split(" ")
    text = " ".join(vocabulary[i % len(vocabulary)] for i in range(1500))
    spans = chunk_text(text, count_tokens=encoder.count_tokens)
    assert len(spans) > 5
    assert_tiles(text, spans)
    assert max(token_counts(encoder, text, spans)) <= 192
    for span in spans[1:]:
        assert text[span.start - 1] == " ", "cut between words, not inside one"


def test_word_longer_than_100_chars_is_one_unknown_token(encoder: Encoder) -> None:
    """BERT's word-piece gives up on words over 100 characters: a digit run is [UNK]."""
    digits = "".join(str(i % 10) for i in range(3000))
    assert encoder.count_tokens([digits]) == [1]
    text = f"Reference number {digits} was filed."
    spans = chunk_text(text, count_tokens=encoder.count_tokens)
    assert_tiles(text, spans)
    assert max(token_counts(encoder, text, spans)) <= 192


def _giant_tokens() -> dict[str, str]:
    rng = random.Random(7)
    return {
        "query-url": (
            "https://example.com/search?" + "&".join(f"param{i}=value{i}" for i in range(200))
        )[:3000],
        "path-url": "https://example.com/" + "/".join(f"segment{i}" for i in range(300)),
        "base64": base64.b64encode(rng.randbytes(2250)).decode(),
    }


@pytest.mark.parametrize("name", sorted(_giant_tokens()))
def test_giant_token_is_cut_and_every_character_kept(encoder: Encoder, name: str) -> None:
    token = _giant_tokens()[name]
    text = f"See the document at {token} for the full list. It was published today."
    spans = chunk_text(text, count_tokens=encoder.count_tokens)
    assert_tiles(text, spans)
    assert len(spans) > 3
    assert all(token not in text[s.start : s.end] for s in spans), "the token was cut"


@pytest.mark.parametrize("max_tokens", [192, 254])
def test_giant_token_passages_fit_the_limit(encoder: Encoder, max_tokens: int) -> None:
    options = ChunkingOptions(max_tokens=max_tokens, overlap_tokens=48)
    worst = {}
    for name, token in _giant_tokens().items():
        text = f"See the document at {token} for the full list. It was published today."
        spans = chunk_text(text, count_tokens=encoder.count_tokens, options=options)
        worst[name] = max(token_counts(encoder, text, spans))
    assert max(worst.values()) <= max_tokens, worst
