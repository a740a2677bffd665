"""The build pipeline: read, chunk, detect language, translate, index, embed, publish.

Everything is written into a fresh partial generation; only a complete one is made
live (see `indexer.layout`). With `strict`, any input problem stops the build
before anything is written.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import tantivy

from indexer.analysis import (
    ANALYZER_BY_LANGUAGE,
    TRANSLATED_FIELD_BY_LANGUAGE,
    build_schema,
    field_for_language,
    register_analyzers,
)
from indexer.articles import Article, InputProblem, read_articles
from indexer.chunking import ChunkingOptions, chunk_text
from indexer.encoder import Encoder, looks_multilingual
from indexer.errors import IndexerError, InputProblemsError
from indexer.language import PRIMARY_LANGUAGES, LanguageDetector
from indexer.layout import ArticleRecord, IndexLayout, PassageRecord, write_jsonl
from indexer.manifest import SCHEMA_VERSION, Manifest, ModelInfo, TranslationInfo
from indexer.onnx_export import prepare_onnx
from indexer.progress import Progress
from indexer.query_encoder import TextEncoder

if TYPE_CHECKING:
    from indexer.translation import ApertiumTranslator

__all__ = ["BuildOptions", "BuildReport", "build_index"]

log = logging.getLogger(__name__)

_ENCODE_CHUNK = 256  # passages per progress step
_WRITER_HEAP_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class BuildOptions:
    sources: tuple[Path, ...]
    index_dir: Path
    model_ref: str
    allow_downloads: bool = False
    strict: bool = False
    translation: str = "auto"  # auto | on | off
    multilingual_model: str = "auto"  # auto | yes | no
    batch_size: int = 32
    onnx_precision: str = "fp32"  # fp32 | int8: the ONNX export recorded for queries
    chunking: ChunkingOptions = field(default_factory=ChunkingOptions)


@dataclass(frozen=True, slots=True)
class BuildReport:
    manifest: Manifest
    problems: list[InputProblem]
    generation_dir: Path
    removed_leftovers: int

    @property
    def passages_per_second(self) -> float:
        return self.manifest.passages / max(self.manifest.build_seconds, 1e-9)


@dataclass(slots=True)
class _Passage:
    record: PassageRecord
    text: str
    translation: str | None = None  # into the other primary language


def build_index(
    options: BuildOptions, *, encoder: Encoder | None = None, progress: Progress | None = None
) -> BuildReport:
    """Build a complete new generation and make it live. `encoder`: reuse a loaded model."""
    started = time.perf_counter()
    stages: dict[str, float] = {}
    progress = progress or Progress(enabled=False)
    layout = IndexLayout(options.index_dir)
    articles, problems = _read_all(options.sources)
    stages["read"] = time.perf_counter() - started
    skipped = [p for p in problems if p.skipped]
    if options.strict and problems:
        raise InputProblemsError([str(p) for p in problems])
    if not articles:
        raise IndexerError(
            "No articles found in "
            + ", ".join(str(s) for s in options.sources)
            + "; the live index was not changed. "
            + ("; ".join(str(p) for p in problems[:3]) or "Check the --source paths.")
        )
    from indexer.translation import open_translator

    translator = open_translator(options.translation)
    mark = time.perf_counter()
    encoder = encoder or Encoder(options.model_ref, allow_downloads=options.allow_downloads)
    stages["load_model"] = time.perf_counter() - mark
    multilingual = _is_multilingual(options.multilingual_model, encoder)
    with layout.build_lock():
        removed = layout.remove_leftovers()
        mark = time.perf_counter()
        onnx = prepare_onnx(encoder, options.index_dir, precision=options.onnx_precision)
        stages["onnx_export"] = time.perf_counter() - mark
        generation_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]
        partial = layout.new_partial(generation_id)
        detector = LanguageDetector()
        chunking = ChunkingOptions(
            max_tokens=min(options.chunking.max_tokens, encoder.max_passage_tokens),
            overlap_tokens=options.chunking.overlap_tokens,
        )
        mark = time.perf_counter()
        article_records, passages = _chunk_all(articles, encoder, detector, chunking, progress)
        stages["chunk_and_detect"] = time.perf_counter() - mark
        pivot = None if multilingual or translator is None else "en"
        translated = _translate_and_embed(
            passages, translator, onnx.passage_encoder, pivot, options, progress, stages
        )
        embeddings, translated_count = translated
        mark = time.perf_counter()
        np.save(partial.embeddings, embeddings)
        write_jsonl(partial.articles, article_records)
        write_jsonl(partial.passages, [p.record for p in passages])
        _write_tantivy(partial.tantivy, article_records, passages, progress)
        stages["write"] = time.perf_counter() - mark
        by_language = Counter(p.record.lang for p in passages)
        manifest = Manifest(
            schema_version=SCHEMA_VERSION,
            generation=generation_id,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - started, 3),
            model=ModelInfo(
                name=encoder.name,
                ref=encoder.model_ref,
                dimension=encoder.dimension,
                max_seq_length=encoder.max_seq_length,
                multilingual=multilingual,
            ),
            translation=_translation_info(
                options.translation,
                translator,
                pivot,
                translated_count,
                sum(1 for p in passages if p.record.lang in PRIMARY_LANGUAGES),
            ),
            chunking=asdict(chunking),
            articles=len(article_records),
            passages=len(passages),
            passages_by_language=dict(sorted(by_language.items())),
            sources=[str(s) for s in options.sources],
            skipped_inputs=len(skipped),
            warnings=len(problems) - len(skipped),
            analyzers=dict(ANALYZER_BY_LANGUAGE),
            stage_seconds={name: round(value, 3) for name, value in stages.items()},
            onnx=onnx.info,
        )
        manifest.write(partial.manifest)
        published = layout.publish(partial)
    if translator is not None:
        translator.close()
    progress.close()
    return BuildReport(manifest, problems, published.root, len(removed))


def _read_all(sources: Sequence[Path]) -> tuple[list[Article], list[InputProblem]]:
    articles: list[Article] = []
    problems: list[InputProblem] = []
    for item in read_articles(sources):
        (articles if isinstance(item, Article) else problems).append(item)  # type: ignore[arg-type]
    return articles, problems


def _translation_info(
    setting: str,
    translator: ApertiumTranslator | None,
    pivot: str | None,
    count: int,
    expected: int,
) -> TranslationInfo:
    if translator is None:
        reason = (
            "off by setting" if setting == "off" else "Apertium (apertium-eng-spa) not installed"
        )
        return TranslationInfo(False, None, reason, None, 0)
    return TranslationInfo(
        True, "apertium", f"translation {setting}", pivot, count, max(0, expected - count)
    )


def _is_multilingual(setting: str, encoder: Encoder) -> bool:
    if setting == "auto":
        return looks_multilingual(encoder.name) or looks_multilingual(encoder.model_ref)
    return setting == "yes"


def _chunk_all(
    articles: list[Article],
    encoder: Encoder,
    detector: LanguageDetector,
    chunking: ChunkingOptions,
    progress: Progress,
) -> tuple[list[ArticleRecord], list[_Passage]]:
    progress.stage("chunking", len(articles))
    records: list[ArticleRecord] = []
    passages: list[_Passage] = []
    for article in articles:
        article_language = detector.detect(article.text, hint=article.lang_hint)

        def paragraph_language(text: str, hint: str = article_language) -> str:
            return detector.detect(text, hint=hint)

        spans = chunk_text(
            article.text,
            count_tokens=encoder.count_tokens,
            options=chunking,
            language_of=paragraph_language,
        )
        for number, span in enumerate(spans):
            text = article.text[span.start : span.end]
            language = detector.detect(text, hint=article_language)
            record = PassageRecord(
                row=len(passages),
                passage_id=f"{article.id}#{number}",
                article_id=article.id,
                lang=language,
                start=span.start,
                end=span.end,
            )
            passages.append(_Passage(record, text))
        records.append(
            ArticleRecord(
                id=article.id,
                title=article.title,
                text=article.text,
                lang=article_language,
                date=article.date,
                source=article.source,
                url=article.url,
            )
        )
        progress.advance()
    return records, passages


def _translate_and_embed(
    passages: list[_Passage],
    translator: ApertiumTranslator | None,
    encoder: TextEncoder,
    pivot: str | None,
    options: BuildOptions,
    progress: Progress,
    stages: dict[str, float],
) -> tuple[npt.NDArray[np.float32], int]:
    """Embeddings for every passage, translating alongside the encoder.

    Translation runs in Apertium's own processes, so a thread feeding it overlaps
    with torch encoding. With a pivot, a passage not in the pivot language is
    embedded through its translation (translate-test): an English-only model
    then sees English, and a Spanish query (also pivoted) meets it there.
    """
    embeddings = np.zeros((len(passages), encoder.dimension), dtype=np.float32)
    rows_by_language: dict[str, list[int]] = {"en": [], "es": []}
    for passage in passages:
        rows_by_language.get(passage.record.lang, []).append(passage.record.row)

    def translate(source: str, target: str) -> list[str | None]:
        assert translator is not None
        mark = time.perf_counter()
        texts = [passages[row].text for row in rows_by_language[source]]
        result = translator.translate_many(texts, source=source, target=target)
        stages[f"translate_{source}_{target}"] = time.perf_counter() - mark
        return result

    translated_count = 0

    def collect(source: str, job: Future[list[str | None]]) -> None:
        nonlocal translated_count
        for row, translation in zip(rows_by_language[source], job.result(), strict=True):
            if translation and translation.strip():
                passages[row].translation = translation
                translated_count += 1

    mark = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="translate") as pool:
        # es->en first: the pivot embeddings wait for it; en->es only feeds the index.
        jobs = (
            {
                source: pool.submit(translate, source, target)
                for source, target in (("es", "en"), ("en", "es"))
            }
            if translator is not None
            else {}
        )
        pivot_rows = rows_by_language["es"] if pivot == "en" and translator is not None else []
        pivot_set = set(pivot_rows)
        direct_rows = [p.record.row for p in passages if p.record.row not in pivot_set]
        progress.stage("embedding", len(passages))
        _encode_rows(
            embeddings, direct_rows, [p.text for p in passages], encoder, options, progress
        )
        if "es" in jobs:
            collect("es", jobs["es"])
        if pivot_rows:
            texts = [p.translation or p.text for p in passages]
            _encode_rows(embeddings, pivot_rows, texts, encoder, options, progress)
        if "en" in jobs:
            collect("en", jobs["en"])
    stages["translate_and_embed"] = time.perf_counter() - mark
    return embeddings, translated_count


def _encode_rows(
    embeddings: npt.NDArray[np.float32],
    rows: list[int],
    texts: list[str],
    encoder: TextEncoder,
    options: BuildOptions,
    progress: Progress,
) -> None:
    for at in range(0, len(rows), _ENCODE_CHUNK):
        chunk = rows[at : at + _ENCODE_CHUNK]
        embeddings[chunk] = encoder.encode([texts[r] for r in chunk], batch_size=options.batch_size)
        progress.advance(len(chunk))


def _write_tantivy(
    directory: Path,
    articles: list[ArticleRecord],
    passages: list[_Passage],
    progress: Progress,
) -> None:
    directory.mkdir()
    index = tantivy.Index(build_schema(), path=str(directory))
    register_analyzers(index)
    by_id = {a.id: a for a in articles}
    writer = index.writer(heap_size=_WRITER_HEAP_BYTES, num_threads=1)
    progress.stage("indexing", len(passages))
    for passage in passages:
        record = passage.record
        article = by_id[record.article_id]
        document = tantivy.Document()
        document.add_unsigned("row", record.row)
        document.add_text("article_id", record.article_id)
        document.add_text("lang", record.lang)
        document.add_text(field_for_language(record.lang), passage.text)
        if article.source:
            document.add_text("source", article.source)
        if article.date:
            document.add_date("date", datetime.fromisoformat(article.date).replace(tzinfo=UTC))
        if passage.translation and record.lang in PRIMARY_LANGUAGES:
            other = "en" if record.lang == "es" else "es"
            document.add_text(TRANSLATED_FIELD_BY_LANGUAGE[other], passage.translation)
        writer.add_document(document)
        progress.advance()
    writer.commit()
    writer.wait_merging_threads()
