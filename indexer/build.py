"""The full build: read every source, then write a generation from nothing.

Passages are made by `indexer.preparation` and written by
`indexer.generation_writer`, the same code every later change goes through, so a
built index and a changed one hold the same passages for the same articles.
Everything is written into a fresh partial generation; only a complete one is made
live (see `indexer.layout`). With `strict`, any input problem stops the build
before anything is written. Encodings and translations already in the index's
cache (`indexer.encoding_cache`) are reused.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.analysis import ANALYZER_BY_LANGUAGE
from indexer.articles import Article, InputProblem, SizeLimit, read_all_articles
from indexer.chunking import ChunkingOptions
from indexer.encoder import Encoder, looks_multilingual
from indexer.encoding_cache import EncodingCache
from indexer.errors import DiskFullError, IndexerError, InputProblemsError, SourceNotFoundError
from indexer.export_cache import (
    ModelFacts,
    find_cached_export,
    model_source_digest,
    remember_export,
)
from indexer.generation_writer import new_generation_id, write_generation
from indexer.layout import ArticleRecord, GenerationPaths, IndexLayout
from indexer.manifest import SCHEMA_VERSION, Manifest, ModelInfo, TranslationInfo
from indexer.onnx_export import (
    BuildEncoding,
    export_precision,
    prepare_cached_onnx,
    prepare_onnx,
)
from indexer.preparation import Preparation, prepare_articles
from indexer.progress import Progress
from indexer.settings import DEFAULT_ONNX_PRECISION, DEFAULT_PASSAGE_PRECISION
from indexer.update import encoder_space, finish_manifest

if TYPE_CHECKING:
    from indexer.translation import ApertiumTranslator

__all__ = ["BuildOptions", "BuildReport", "build_index"]

log = logging.getLogger(__name__)


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
    # int8 | fp32: the ONNX export recorded for queries
    onnx_precision: str = DEFAULT_ONNX_PRECISION
    # int8 | fp32: the ONNX export passages are embedded with (recorded; changes follow it)
    passage_precision: str = DEFAULT_PASSAGE_PRECISION
    # finished exports by the model's files (`indexer.export_cache`); None: not used
    export_cache: Path | None = None
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
        articles, problems = read_all_articles(options.sources, size_limit=options.size_limit)
        stages["read"] = time.perf_counter() - started
        _check_inputs(options, articles, problems)
        translator = _open_translator(options.translation, to_close)
        model, onnx = _prepare_model(options, encoder, stages)
        removed = layout.remove_leftovers()
        try:
            partial, manifest = _write_generation(
                layout,
                articles,
                problems,
                options=options,
                model=model,
                onnx=onnx,
                translator=translator,
                progress=progress,
                stages=stages,
                started=started,
                to_close=to_close,
            )
            published = layout.publish(partial)
        except BaseException as error:
            layout.remove_leftovers()
            if _is_disk_full(error):
                raise _disk_full_error(options.index_dir, articles, model) from error
            raise
        finally:
            progress.close()
    return BuildReport(manifest, problems, published.root, len(removed))


def _prepare_model(
    options: BuildOptions, encoder: Encoder | None, stages: dict[str, float]
) -> tuple[Encoder | ModelFacts, BuildEncoding]:
    """The model's facts and the build's encoding: from the export cache when it holds
    this model's export (no torch: `stages["find_export"]`), else by loading the model
    and exporting it (`load_model`, `onnx_export`), the export then cached. The model
    directory is digested once, for the look-up and the storing both."""
    mark = time.perf_counter()
    precision, cache = options.onnx_precision, options.export_cache
    for_passages = options.passage_precision
    stored = export_precision(precision, for_passages)  # the cache entry holding both
    model_ref = encoder.model_ref if encoder is not None else options.model_ref
    digest = model_source_digest(model_ref) if cache is not None else None
    if encoder is None and cache is not None and digest is not None:
        cached = find_cached_export(cache, model_ref, stored, digest=digest)
        onnx = (
            prepare_cached_onnx(
                cached, options.index_dir, precision=precision, passage_precision=for_passages
            )
            if cached
            else None
        )
        stages["find_export"] = time.perf_counter() - mark
        if cached is not None and onnx is not None:
            return cached.facts, onnx
    mark = time.perf_counter()
    encoder = encoder or Encoder(options.model_ref, allow_downloads=options.allow_downloads)
    stages["load_model"] = time.perf_counter() - mark
    mark = time.perf_counter()
    onnx = prepare_onnx(
        encoder, options.index_dir, precision=precision, passage_precision=for_passages
    )
    stages["onnx_export"] = time.perf_counter() - mark
    if cache is not None and digest is not None and onnx.directory is not None:
        facts = ModelFacts(
            encoder.name, encoder.model_ref, encoder.dimension, encoder.max_seq_length
        )
        remember_export(cache, model_ref, stored, facts, onnx.directory, digest=digest)
    return encoder, onnx


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
    layout: IndexLayout,
    articles: list[Article],
    problems: list[InputProblem],
    *,
    options: BuildOptions,
    model: Encoder | ModelFacts,
    onnx: BuildEncoding,
    translator: ApertiumTranslator | None,
    progress: Progress,
    stages: dict[str, float],
    started: float,
    to_close: contextlib.ExitStack,
) -> tuple[GenerationPaths, Manifest]:
    """Chunk, translate, embed and write everything into a partial generation; return
    it (complete, not yet published) and its manifest."""
    multilingual = _is_multilingual(options.multilingual_model, model)
    passage_encoder = onnx.passage_encoder
    tokens = passage_encoder if hasattr(passage_encoder, "count_tokens") else model
    chunking = ChunkingOptions(
        max_tokens=min(options.chunking.max_tokens, model.max_passage_tokens),
        overlap_tokens=options.chunking.overlap_tokens,
    )
    pivot = None if multilingual or translator is None else "en"
    cache = to_close.enter_context(
        EncodingCache(
            options.index_dir,
            vector_space=encoder_space(passage_encoder),
            dimension=model.dimension,
        )
    )
    preparation = Preparation(
        chunking=chunking,
        tokens=tokens,  # type: ignore[arg-type]
        encoder=passage_encoder,
        translator=translator,
        pivot=pivot,
        cache=cache,
        batch_size=options.batch_size,
    )
    partial = layout.new_partial(new_generation_id())  # from here on, a crash leaves it
    prepared, failed, encoded = prepare_articles(
        articles, preparation, progress=progress, stages=stages
    )
    problems.extend(failed)
    _check_inputs(options, [a.record for a in prepared], problems)
    written = write_generation(
        layout, None, prepared, (), dimension=model.dimension, partial=partial
    )
    skipped = sum(1 for p in problems if p.skipped)
    template = Manifest(
        schema_version=SCHEMA_VERSION,
        generation=written.paths.generation_id,
        created_at="",
        build_seconds=0.0,
        model=ModelInfo(
            name=model.name,
            ref=model.model_ref,
            dimension=model.dimension,
            max_seq_length=model.max_seq_length,
            multilingual=multilingual,
        ),
        translation=_translation_info(options.translation, translator, pivot),
        chunking=asdict(chunking),
        articles=0,
        passages=0,
        passages_by_language={},
        sources=[str(s) for s in options.sources],
        skipped_inputs=skipped,
        warnings=len(problems) - skipped,
        analyzers=dict(ANALYZER_BY_LANGUAGE),
        onnx=onnx.info,
    )
    manifest = finish_manifest(
        written,
        template,
        started=started,
        stages=stages,
        change={"kind": "build", "added": len(prepared), "encoded_passages": encoded},
    )
    return written.paths, manifest


def _is_disk_full(error: BaseException) -> bool:
    """ENOSPC/EDQUOT from Python, or from tantivy (a ValueError quoting the OS error)."""
    codes = (errno.ENOSPC, errno.EDQUOT)
    if isinstance(error, OSError):
        return error.errno in codes
    return isinstance(error, ValueError) and any(f"(os error {c})" in str(error) for c in codes)


def _disk_full_error(
    index_dir: Path, articles: list[Article], model: Encoder | ModelFacts
) -> DiskFullError:
    """One line with what the user needs: where, and roughly how much space.

    The estimate: the text is stored twice (articles.jsonl and the tantivy
    positions, plus passage records), and one float32 vector per ~600 characters
    (a 192-token passage with its overlap)."""
    characters = sum(len(a.text) for a in articles)
    needed = 3 * characters + (characters // 600 + len(articles)) * model.dimension * 4
    try:
        free = shutil.disk_usage(index_dir).free
    except OSError:
        free = 0
    return DiskFullError(
        f"No space left on the device of {index_dir}/ while writing a new generation: it "
        f"needs about {needed / 1e6:.1f} MB and {free / 1e6:.1f} MB are free. Free some space "
        "or build with --index on another disk; the live index was not changed."
    )


def _translation_info(
    setting: str, translator: ApertiumTranslator | None, pivot: str | None
) -> TranslationInfo:
    """The counts are filled in by `finish_manifest`, from the store."""
    if translator is None:
        reason = (
            "off by setting" if setting == "off" else "Apertium (apertium-eng-spa) not installed"
        )
        return TranslationInfo(False, None, reason, None, 0)
    return TranslationInfo(True, "apertium", f"translation {setting}", pivot)


def _is_multilingual(setting: str, model: Encoder | ModelFacts) -> bool:
    if setting == "auto":
        return looks_multilingual(model.name) or looks_multilingual(model.model_ref)
    return setting == "yes"
