"""The build pipeline: read, chunk, detect language, translate, index, embed, publish.

Everything is written into a fresh partial generation; only a complete one is made
live (see `indexer.layout`). With `strict`, any input problem stops the build
before anything is written.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
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
from indexer.articles import Article, InputProblem, SizeLimit, describe_error, read_articles
from indexer.boilerplate import label_passages
from indexer.chunking import ChunkingOptions, LabelledSpan, chunk_passages
from indexer.encoder import Encoder, looks_multilingual
from indexer.errors import DiskFullError, IndexerError, InputProblemsError, SourceNotFoundError
from indexer.language import PRIMARY_LANGUAGES, UNDETERMINED, LanguageDetector, count_letters
from indexer.layout import (
    ArticleRecord,
    GenerationPaths,
    IndexLayout,
    PassageRecord,
    write_jsonl,
)
from indexer.manifest import SCHEMA_VERSION, Manifest, ModelInfo, TranslationInfo
from indexer.onnx_export import BuildEncoding, prepare_onnx
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
    allow_missing: bool = False  # a missing source is a skipped input, not a failure
    translation: str = "auto"  # auto | on | off
    multilingual_model: str = "auto"  # auto | yes | no
    batch_size: int = 32
    onnx_precision: str = "fp32"  # fp32 | int8: the ONNX export recorded for queries
    chunking: ChunkingOptions = field(default_factory=ChunkingOptions)
    size_limit: SizeLimit = field(default_factory=SizeLimit)  # the largest article


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
    """Build a complete new generation and make it live. `encoder`: reuse a loaded model.

    The build lock comes first, before reading and before the model loads, so a
    second build of the same index fails at once. Whatever the build opens is closed
    on every way out, Ctrl-C included: the translator's Apertium processes, and the
    partial generation, which is removed. The live index changes only in `publish`.
    """
    started = time.perf_counter()
    progress = progress or Progress(enabled=False)
    _check_sources_exist(options)
    layout = IndexLayout(options.index_dir)
    with layout.build_lock(), contextlib.ExitStack() as to_close:
        stages: dict[str, float] = {}
        articles, problems = _read_all(options.sources, options.size_limit)
        stages["read"] = time.perf_counter() - started
        _check_inputs(options, articles, problems)
        translator = _open_translator(options.translation, to_close)
        mark = time.perf_counter()
        encoder = encoder or Encoder(options.model_ref, allow_downloads=options.allow_downloads)
        stages["load_model"] = time.perf_counter() - mark
        mark = time.perf_counter()
        onnx = prepare_onnx(encoder, options.index_dir, precision=options.onnx_precision)
        stages["onnx_export"] = time.perf_counter() - mark
        removed = layout.remove_leftovers()
        generation_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + "-" + uuid.uuid4().hex[:6]
        try:
            partial = layout.new_partial(generation_id)
            manifest = _write_generation(
                partial,
                articles,
                problems,
                options=options,
                encoder=encoder,
                onnx=onnx,
                translator=translator,
                progress=progress,
                stages=stages,
                started=started,
            )
            published = layout.publish(partial)
        except BaseException as error:
            layout.remove_leftovers()
            if _is_disk_full(error):
                raise _disk_full_error(options.index_dir, articles, encoder) from error
            raise
        finally:
            progress.close()
    return BuildReport(manifest, problems, published.root, len(removed))


def _check_sources_exist(options: BuildOptions) -> None:
    """A source the user named and mistyped must not silently shrink the index."""
    if options.allow_missing:
        return
    missing = [str(source) for source in options.sources if not source.exists()]
    if missing:
        raise SourceNotFoundError(missing)


def _check_inputs(
    options: BuildOptions,
    articles: Sequence[Article | ArticleRecord],
    problems: list[InputProblem],
) -> None:
    if options.strict and problems:
        raise InputProblemsError([str(p) for p in problems])
    if not articles:
        raise IndexerError(
            "No articles found in "
            + ", ".join(str(s) for s in options.sources)
            + "; the live index was not changed. "
            + ("; ".join(str(p) for p in problems[:3]) or "Check the --source paths.")
        )


def _open_translator(setting: str, to_close: contextlib.ExitStack) -> ApertiumTranslator | None:
    from indexer.translation import open_translator

    translator = open_translator(setting)
    return None if translator is None else to_close.enter_context(translator)


def _write_generation(
    partial: GenerationPaths,
    articles: list[Article],
    problems: list[InputProblem],
    *,
    options: BuildOptions,
    encoder: Encoder,
    onnx: BuildEncoding,
    translator: ApertiumTranslator | None,
    progress: Progress,
    stages: dict[str, float],
    started: float,
) -> Manifest:
    """Chunk, translate, embed and write everything into `partial`; return its manifest."""
    multilingual = _is_multilingual(options.multilingual_model, encoder)
    detector = LanguageDetector()
    chunking = ChunkingOptions(
        max_tokens=min(options.chunking.max_tokens, encoder.max_passage_tokens),
        overlap_tokens=options.chunking.overlap_tokens,
    )
    mark = time.perf_counter()
    article_records, passages, failed = _chunk_all(articles, encoder, detector, chunking, progress)
    stages["chunk_and_detect"] = time.perf_counter() - mark
    problems.extend(failed)
    _check_inputs(options, article_records, problems)
    pivot = None if multilingual or translator is None else "en"
    embeddings, translated_count = _translate_and_embed(
        passages, translator, onnx.passage_encoder, pivot, options, progress, stages
    )
    mark = time.perf_counter()
    np.save(partial.embeddings, embeddings)
    write_jsonl(partial.articles, article_records)
    write_jsonl(partial.passages, [p.record for p in passages])
    _write_tantivy(partial.tantivy, article_records, passages, progress)
    stages["write"] = time.perf_counter() - mark
    skipped = sum(1 for p in problems if p.skipped)
    by_language = Counter(p.record.lang for p in passages)
    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        generation=partial.generation_id,
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
        skipped_inputs=skipped,
        warnings=len(problems) - skipped,
        analyzers=dict(ANALYZER_BY_LANGUAGE),
        stage_seconds={name: round(value, 3) for name, value in stages.items()},
        onnx=onnx.info,
    )
    manifest.write(partial.manifest)
    return manifest


def _is_disk_full(error: BaseException) -> bool:
    """ENOSPC/EDQUOT from Python, or from tantivy (a ValueError quoting the OS error)."""
    codes = (errno.ENOSPC, errno.EDQUOT)
    if isinstance(error, OSError):
        return error.errno in codes
    return isinstance(error, ValueError) and any(f"(os error {c})" in str(error) for c in codes)


def _disk_full_error(index_dir: Path, articles: list[Article], encoder: Encoder) -> DiskFullError:
    """One line with what the user needs: where, and roughly how much space.

    The estimate: the text is stored twice (articles.jsonl and the tantivy
    positions, plus passage records), and one float32 vector per ~600 characters
    (a 192-token passage with its overlap)."""
    characters = sum(len(a.text) for a in articles)
    needed = 3 * characters + (characters // 600 + len(articles)) * encoder.dimension * 4
    try:
        free = shutil.disk_usage(index_dir).free
    except OSError:
        free = 0
    return DiskFullError(
        f"No space left on the device of {index_dir}/ while writing a new generation: it "
        f"needs about {needed / 1e6:.1f} MB and {free / 1e6:.1f} MB are free. Free some space "
        "or build with --index on another disk; the live index was not changed."
    )


def _read_all(
    sources: Sequence[Path], size_limit: SizeLimit
) -> tuple[list[Article], list[InputProblem]]:
    articles: list[Article] = []
    problems: list[InputProblem] = []
    for item in read_articles(sources, size_limit=size_limit):
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
) -> tuple[list[ArticleRecord], list[_Passage], list[InputProblem]]:
    """Records and passages of every article, and a problem for each one that failed.

    Whatever one article raises (language detection, tokenizing, chunking) skips
    that article alone, reported with its file and line like any other bad input.
    Progress counts characters, so it moves inside a multi-megabyte article too.
    """
    progress.stage("chunking", sum(len(a.text) for a in articles), unit="M chars", scale=1e6)
    records: list[ArticleRecord] = []
    passages: list[_Passage] = []
    problems: list[InputProblem] = []
    for article in articles:
        counted = 0

        def advance(characters: int) -> None:
            nonlocal counted
            counted += characters
            progress.advance(characters)

        try:
            record, spans = _chunk_article(article, encoder, detector, chunking, advance)
        except Exception as error:
            problems.append(
                InputProblem(article.origin, f"could not be chunked: {describe_error(error)}")
            )
            continue
        finally:
            progress.advance(len(article.text) - counted)
        boilerplate = label_passages(article.text, [(s.start, s.end) for s in spans])
        for number, span in enumerate(spans):
            passage = PassageRecord(
                row=len(passages),
                passage_id=f"{article.id}#{number}",
                article_id=article.id,
                lang=span.language or record.lang,
                start=span.start,
                end=span.end,
                boilerplate=boilerplate[number],
            )
            passages.append(_Passage(passage, article.text[span.start : span.end]))
        records.append(record)
    return records, passages, problems


def _chunk_article(
    article: Article,
    encoder: Encoder,
    detector: LanguageDetector,
    chunking: ChunkingOptions,
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
        count_tokens=encoder.count_tokens,
        options=chunking,
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
        try:
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
        except BaseException:
            # Leaving the pool waits for the translation job: a closed translator
            # answers its remaining batches at once instead of minutes later.
            if translator is not None:
                translator.close()
            raise
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
