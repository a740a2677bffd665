"""Articles into passages ready to store: chunked, language-labelled, boilerplate-
labelled, translated and embedded. Shared by a full build and every change, so an
article becomes the same passages whichever way it enters the index.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from indexer.articles import Article, InputProblem, describe_error
from indexer.boilerplate import label_passages
from indexer.chunking import ChunkingOptions, LabelledSpan, chunk_passages
from indexer.encoding_cache import EncodingCache
from indexer.generation_writer import PreparedArticle
from indexer.language import UNDETERMINED, LanguageDetector, count_letters
from indexer.layout import ArticleRecord, PassageRecord
from indexer.passage_encoding import translate_and_embed
from indexer.progress import Progress
from indexer.query_encoder import TextEncoder

if TYPE_CHECKING:
    from indexer.translation import ApertiumTranslator

__all__ = [
    "API_ORIGIN",
    "Preparation",
    "TokenCounter",
    "content_hash",
    "origin_file",
    "prepare_articles",
]

# The origin of an article sent to the service's write API: "api:<id>".
API_ORIGIN = "api:"
_LINE_SUFFIX = re.compile(r"^(?P<file>.+):(?P<line>\d+)$")


class TokenCounter(Protocol):
    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class Preparation:
    """How articles become passages: the same for a build and the changes after it."""

    chunking: ChunkingOptions
    tokens: TokenCounter
    encoder: TextEncoder
    translator: ApertiumTranslator | None
    pivot: str | None
    cache: EncodingCache
    batch_size: int = 32


@dataclass(frozen=True, slots=True)
class _Chunked:
    article: Article
    record: ArticleRecord
    passages: list[PassageRecord]  # rows 0.. within the article
    texts: list[str]


def prepare_articles(
    articles: Sequence[Article],
    preparation: Preparation,
    *,
    progress: Progress,
    stages: dict[str, float],
) -> tuple[list[PreparedArticle], list[InputProblem], int]:
    """The prepared articles, a problem for each one that failed (skipped), and how
    many passages had to be encoded (not found in the cache)."""
    mark = time.perf_counter()
    chunked, problems = _chunk_all(articles, preparation, progress)
    stages["chunk_and_detect"] = time.perf_counter() - mark
    flat = [
        _PassageText(text, passage.lang)
        for item in chunked
        for passage, text in zip(item.passages, item.texts, strict=True)
    ]
    encoded = translate_and_embed(
        flat,
        encoder=preparation.encoder,
        translator=preparation.translator,
        pivot=preparation.pivot,
        cache=preparation.cache,
        batch_size=preparation.batch_size,
        progress=progress,
        stages=stages,
    )
    prepared = []
    at = 0
    for item in chunked:
        count = len(item.passages)
        prepared.append(
            PreparedArticle(
                record=item.record,
                passages=item.passages,
                texts=item.texts,
                vectors=encoded.vectors[at : at + count],
                translations=encoded.translations[at : at + count],
                origin=origin_file(item.article.origin),
                content_hash=content_hash(item.article),
            )
        )
        at += count
    return prepared, problems, encoded.encoded


def content_hash(article: Article) -> str:
    """What decides an article's passages: its text and metadata (not where it was)."""
    fields = [article.id, article.title, article.text, article.lang_hint]
    fields += [article.date, article.source, article.url]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


def origin_file(origin: str) -> str:
    """The absolute path of the file an article came from ("path" or "path:line").

    An article that came from no file (`API_ORIGIN`, sent to the write API) keeps its
    origin as it is: made absolute it could fall under a folder that `indexer.sync`
    reads, which would then remove it as a file gone."""
    if origin.startswith(API_ORIGIN):
        return origin
    found = _LINE_SUFFIX.match(origin)
    path = found["file"] if found and not os.path.exists(origin) else origin
    return os.path.abspath(path)


@dataclass(frozen=True, slots=True)
class _PassageText:
    text: str
    lang: str


def _chunk_all(
    articles: Sequence[Article], preparation: Preparation, progress: Progress
) -> tuple[list[_Chunked], list[InputProblem]]:
    """Whatever one article raises (language detection, tokenizing, chunking) skips
    that article alone, reported with its file and line like any other bad input.
    Progress counts characters, so it moves inside a multi-megabyte article too."""
    progress.stage("chunking", sum(len(a.text) for a in articles), unit="M chars", scale=1e6)
    detector = LanguageDetector()
    chunked: list[_Chunked] = []
    problems: list[InputProblem] = []
    for article in articles:
        counted = 0

        def advance(characters: int) -> None:
            nonlocal counted
            counted += characters
            progress.advance(characters)

        try:
            record, spans = _chunk_article(article, preparation, detector, advance)
        except Exception as error:
            problems.append(
                InputProblem(article.origin, f"could not be chunked: {describe_error(error)}")
            )
            continue
        finally:
            progress.advance(len(article.text) - counted)
        boilerplate = label_passages(article.text, [(s.start, s.end) for s in spans])
        passages = [
            PassageRecord(
                row=number,
                passage_id=f"{article.id}#{number}",
                article_id=article.id,
                lang=span.language or record.lang,
                start=span.start,
                end=span.end,
                boilerplate=boilerplate[number],
            )
            for number, span in enumerate(spans)
        ]
        texts = [article.text[span.start : span.end] for span in spans]
        chunked.append(_Chunked(article, record, passages, texts))
    return chunked, problems


def _chunk_article(
    article: Article,
    preparation: Preparation,
    detector: LanguageDetector,
    on_progress: Callable[[int], None],
) -> tuple[ArticleRecord, list[LabelledSpan]]:
    """The article's record and passages, each labelled with its paragraphs' language.

    Language is detected once for the article (on a bounded sample) and once per
    paragraph, each paragraph starting from the language of the one before (see
    `LanguageDetector.detect`); a passage without letters is undetermined."""
    article_language = detector.detect(article.text, hint=article.lang_hint)
    previous = article_language

    def paragraph_language(text: str) -> str:
        nonlocal previous
        previous = detector.detect(text, hint=article_language, previous=previous)
        return previous

    spans = chunk_passages(
        article.text,
        count_tokens=preparation.tokens.count_tokens,
        options=preparation.chunking,
        language_of=paragraph_language,
        on_progress=on_progress,
    )
    labelled = [
        span
        if count_letters(article.text[span.start : span.end], enough=1)
        else LabelledSpan(span.start, span.end, UNDETERMINED)
        for span in spans
    ]
    record = ArticleRecord(
        id=article.id,
        title=article.title,
        text=article.text,
        lang=article_language,
        date=article.date,
        source=article.source,
        url=article.url,
    )
    return record, labelled
