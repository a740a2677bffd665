"""Changes to a live index without a rebuild: insert, replace and remove articles.

A change is made exactly as the build made the passages already there (same
chunking, model, translation and pivot, all read from the live manifest), and
costs what it changes (see `indexer.generation_writer`). The model is the ONNX
export the build recorded, run by ONNX Runtime: no torch import, so a one-article
change takes seconds, not the ~30 s of loading sentence-transformers.

Same guarantees as a build: one writer at a time (the build lock; a second gets
a "busy" error at once), the new generation published atomically, and a crash at
any moment leaves the previous generation live.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.articles import Article, InputProblem
from indexer.chunking import ChunkingOptions
from indexer.encoding_cache import EncodingCache
from indexer.errors import IndexerError
from indexer.generation_writer import (
    PreparedArticle,
    WrittenGeneration,
    new_generation_id,
    write_generation,
)
from indexer.layout import GenerationPaths, IndexLayout
from indexer.manifest import Manifest, TranslationInfo
from indexer.preparation import Preparation, TokenCounter, prepare_articles
from indexer.progress import Progress
from indexer.query_encoder import TextEncoder

if TYPE_CHECKING:
    from indexer.translation import ApertiumTranslator

__all__ = [
    "ArticleChange",
    "ChangeReport",
    "StoredOrigins",
    "apply_change",
    "encoder_space",
    "finish_manifest",
    "open_passage_encoder",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ArticleChange:
    """Articles to insert or replace (by id; the last of a repeated id wins) and ids
    to remove. `kind` names the change in the manifest ("add", "remove", "sync", "api")."""

    upserts: Sequence[Article] = ()
    removals: Sequence[str] = ()
    kind: str = "add"
    problems: Sequence[InputProblem] = ()  # found while reading, reported with the result


@dataclass(frozen=True, slots=True)
class ChangeReport:
    manifest: Manifest | None  # None: nothing to change, no new generation
    problems: list[InputProblem]
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # ids asked to remove that were absent
    encoded: int = 0  # passages encoded (the rest came from the cache)
    seconds: float = 0.0


StoredOrigins = dict[str, tuple[str | None, str | None]]  # id -> (origin file, content hash)


def apply_change(
    index_dir: Path,
    change: ArticleChange | Callable[[StoredOrigins], ArticleChange],
    *,
    encoder: TextEncoder | None = None,
    open_encoder: Callable[[Path, Manifest], TextEncoder] | None = None,
    progress: Progress | None = None,
    batch_size: int = 32,
) -> ChangeReport:
    """Apply `change` to the live index in `index_dir` and publish the result.

    `encoder`: the passage encoder to use (tests pass a stand-in); by default the
    live index's own (its ONNX export, else its sentence-transformers model),
    opened by `open_encoder(index_dir, live manifest)`: `open_passage_encoder` by
    default; a server passes one that keeps what it opened. It is called under the
    lock, with the very manifest the change builds on, so it cannot pick the model
    of a generation that a rebuild has just replaced.
    `change` may be a function of what is stored (`indexer.sync`): it is then
    planned under the writer's lock, so no other change slips in between."""
    from indexer.metadata_store import MetadataStore

    started = time.perf_counter()
    progress = progress or Progress(enabled=False)
    layout = IndexLayout(index_dir)
    with layout.build_lock(), contextlib.ExitStack() as to_close:
        layout.remove_leftovers()
        live = layout.live_generation()
        manifest = Manifest.read(live.manifest)
        store = MetadataStore.open(live.root)
        to_close.callback(store.close)
        known = store.article_origins()
        if not isinstance(change, ArticleChange):
            change = change(known)
        upserts = list({a.id: a for a in change.upserts}.values())
        removals = [i for i in dict.fromkeys(change.removals) if i in known]
        unknown = [i for i in dict.fromkeys(change.removals) if i not in known]
        if not upserts and not removals:
            return ChangeReport(None, list(change.problems), unknown=unknown)
        stages: dict[str, float] = {}
        partial = layout.new_partial(new_generation_id())  # a crash from here leaves it
        to_close.callback(_remove_if_unpublished, layout, partial)
        prepared: list[PreparedArticle] = []
        failed: list[InputProblem] = []
        encoded = 0
        if upserts:
            mark = time.perf_counter()
            encoder = encoder or (open_encoder or open_passage_encoder)(index_dir, manifest)
            stages["load_model"] = time.perf_counter() - mark
            translator = _open_translator(manifest.translation, to_close)
            cache = to_close.enter_context(
                EncodingCache(
                    index_dir, vector_space=encoder_space(encoder), dimension=encoder.dimension
                )
            )
            preparation = Preparation(
                chunking=ChunkingOptions(**manifest.chunking),
                tokens=_token_counter(encoder),
                encoder=encoder,
                translator=translator,
                pivot=manifest.translation.embedding_pivot,
                cache=cache,
                batch_size=batch_size,
            )
            prepared, failed, encoded = prepare_articles(
                upserts, preparation, progress=progress, stages=stages
            )
        try:
            written = write_generation(
                layout,
                (live, manifest),
                prepared,
                removals,
                dimension=manifest.model.dimension,
                partial=partial,
            )
            new_manifest = finish_manifest(
                written,
                manifest,
                started=started,
                stages=stages,
                change={
                    "kind": change.kind,
                    "added": sum(1 for a in prepared if a.record.id not in known),
                    "replaced": sum(1 for a in prepared if a.record.id in known),
                    "removed": len(removals),
                    "encoded_passages": encoded,
                    "rewritten_passages": written.rewritten_rows,
                },
            )
            layout.publish(written.paths)
        except BaseException:
            layout.remove_leftovers()
            raise
        finally:
            progress.close()
    return ChangeReport(
        new_manifest,
        [*change.problems, *failed],
        added=[a.record.id for a in prepared if a.record.id not in known],
        replaced=[a.record.id for a in prepared if a.record.id in known],
        removed=removals,
        unknown=unknown,
        encoded=encoded,
        seconds=time.perf_counter() - started,
    )


def finish_manifest(
    written: WrittenGeneration,
    template: Manifest,
    *,
    started: float,
    stages: Mapping[str, float],
    change: dict[str, object],
) -> Manifest:
    """The new generation's manifest (written into it): `template`'s settings with
    the generation's own counts."""
    translation = template.translation
    if translation.enabled:
        translation = dataclasses.replace(
            translation,
            translated_passages=written.translated_passages,
            untranslated_passages=max(
                0,
                sum(n for lang, n in written.passages_by_language.items() if lang in ("en", "es"))
                - written.translated_passages,
            ),
        )
    manifest = dataclasses.replace(
        template,
        generation=written.paths.generation_id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 3),
        translation=translation,
        articles=written.articles,
        passages=written.live_rows,
        passages_by_language=written.passages_by_language,
        rows=written.rows,
        vector_index=written.vector_index.to_dict(),
        lexical_segments=written.lexical_segments,
        stage_seconds={
            name: round(value, 3) for name, value in {**stages, **written.stage_seconds}.items()
        },
        change=change,
    )
    manifest.write(written.paths.manifest)
    return manifest


def _remove_if_unpublished(layout: IndexLayout, partial: GenerationPaths) -> None:
    """A change that failed or was interrupted before publishing leaves nothing."""
    if partial.root.exists():
        shutil.rmtree(partial.root, ignore_errors=True)


def open_passage_encoder(index_dir: Path, manifest: Manifest) -> TextEncoder:
    """The encoder that embedded the live index's passages: its ONNX export, in the
    precision the manifest records, on every core; else (no export recorded) its
    sentence-transformers model."""
    onnx = manifest.onnx
    if onnx is not None and onnx.exported and onnx.path is not None:
        from indexer.onnx_encoder import OnnxEncoder

        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        return OnnxEncoder(
            (index_dir / onnx.path).parent,
            model_ref=manifest.model.ref,
            precision=onnx.passage_precision,
            threads=cores or 1,
        )
    log.warning("no ONNX export recorded in the index: loading %s with torch", manifest.model.ref)
    from indexer.encoder import Encoder

    return Encoder(manifest.model.ref)


def encoder_space(encoder: TextEncoder) -> str:
    """What identifies an encoder's vectors in the cache: vectors of equal spaces are
    interchangeable. An ONNX export is named by its content hash (its directory)."""
    directory = getattr(encoder, "directory", None)
    backend = getattr(encoder, "backend", type(encoder).__name__)
    if directory is not None and str(backend).startswith("onnx"):
        return f"{backend} {Path(directory).name}"
    return f"{backend} {encoder.model_ref}"


def _token_counter(encoder: TextEncoder) -> TokenCounter:
    if not hasattr(encoder, "count_tokens"):
        raise IndexerError(f"The encoder {encoder.model_ref!r} cannot count tokens for chunking.")
    return encoder  # type: ignore[return-value]


def _open_translator(
    info: TranslationInfo, to_close: contextlib.ExitStack
) -> ApertiumTranslator | None:
    """Translation as the build had it: on if it was on (Apertium must be here), off
    if it was off, so new passages match the old ones."""
    if not info.enabled:
        return None
    from indexer.translation import open_translator

    translator = open_translator("on")
    return None if translator is None else to_close.enter_context(translator)
