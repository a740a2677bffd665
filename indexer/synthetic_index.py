"""A synthetic index of N passages, written by the project's own writers, for measuring
how the service behaves at sizes we have no corpus for (`make bench-scale`).

The passages are real ones: those of a reference index (`indexer.reference_index`),
read back from its store with their texts, translations and vectors, and tiled
until there are N. Copy 0 of an article keeps its id and vectors; copy c > 0 is
the article `<id>~<c>`, its passages `<id>~<c>#<n>`, its vectors the originals
with noise (`indexer.embedding_noise`), so the archive is not a pile of duplicates.
The last copy is cut to the passages that fit. XQuAD articles have no date or
source, so every copy gets one (a day in 2010-2024 and one of 20 sources),
giving filters, facets and sorting real columns to read.

Only the encoder is skipped. The generation is written by
`indexer.generation_writer.write_generation` and its manifest by
`indexer.update.finish_manifest`, then published, as a full build does: the
metadata store, the tantivy segments, the vectors file and the IVF lists are
what a build of the same N passages would write.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from indexer.embedding_noise import noise_basis, perturbed
from indexer.generation_writer import PreparedArticle, write_generation
from indexer.layout import ArticleRecord, IndexLayout, PassageRecord, read_vectors
from indexer.manifest import Manifest
from indexer.metadata_store import MetadataStore
from indexer.onnx_export import MODELS_DIR
from indexer.update import finish_manifest
from indexer.vector_index import DEFAULT_THRESHOLD

__all__ = [
    "ReferenceArticle",
    "ReferenceCorpus",
    "SyntheticIndex",
    "SyntheticOptions",
    "build_synthetic_index",
]

Matrix = npt.NDArray[np.float32]

_SOURCES = tuple(f"Source {number:02d}" for number in range(1, 21))
_FIRST_DAY = date(2010, 1, 1)
_DAYS = 15 * 365
_CHUNK_ROWS = 100_000  # vectors perturbed at a time (150 MB of float32 at 384 dims)
_SCRATCH = "synthetic-vectors.f32"


@dataclass(frozen=True, slots=True)
class ReferenceArticle:
    record: ArticleRecord
    passages: tuple[PassageRecord, ...]
    texts: tuple[str, ...]
    translations: tuple[str | None, ...]
    rows: tuple[int, ...]  # its passages' rows in the reference vectors


@dataclass(frozen=True, slots=True)
class ReferenceCorpus:
    index_dir: Path
    manifest: Manifest
    articles: tuple[ReferenceArticle, ...]
    vectors: Matrix  # (reference rows, dimension), unit rows

    @classmethod
    def read(cls, index_dir: Path) -> ReferenceCorpus:
        """Every live article of the index's live generation, in memory (a few MB)."""
        live = IndexLayout(index_dir).live_generation()
        manifest = Manifest.read(live.manifest)
        store = MetadataStore.open(live.root)
        try:
            articles = []
            for record in store.articles():
                passages = tuple(store.passages_of(record.id))
                rows = [p.row for p in passages]
                stored = store.translations(rows)
                articles.append(
                    ReferenceArticle(
                        record=record,
                        passages=passages,
                        texts=tuple(record.text[p.start : p.end] for p in passages),
                        translations=tuple(stored.get(row) for row in rows),
                        rows=tuple(rows),
                    )
                )
        finally:
            store.close()
        vectors = np.array(read_vectors(live), dtype=np.float32)
        return cls(index_dir, manifest, tuple(articles), vectors)

    @property
    def passage_count(self) -> int:
        return sum(len(article.passages) for article in self.articles)


@dataclass(frozen=True, slots=True)
class SyntheticOptions:
    passages: int  # N, the rows of the synthetic index
    noise: str = "shaped"  # see `indexer.embedding_noise`
    sigma: float = 0.05
    translations: bool = True  # the reference's stored translations, or none
    vector_threshold: int = DEFAULT_THRESHOLD  # rows from which an approximate index is built
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SyntheticIndex:
    manifest: Manifest
    tile_seconds: float  # making the copies and their vectors (not part of a build)
    write_seconds: float  # the writers: store, tantivy, vectors and graph, publish
    copy_cosine: float  # mean cosine of a noisy copy to its original (1.0: no copies)


def build_synthetic_index(
    reference: ReferenceCorpus, index_dir: Path, options: SyntheticOptions
) -> SyntheticIndex:
    """Write a synthetic index of `options.passages` passages into `index_dir` and
    make it live (an index already there is replaced by a new generation)."""
    if options.passages <= 0 or reference.passage_count == 0:
        raise ValueError(f"cannot tile {reference.passage_count} passages to {options.passages}")
    started = time.perf_counter()
    layout = IndexLayout(index_dir)
    with layout.build_lock():
        layout.remove_leftovers()
        _link_models(reference.index_dir, index_dir)
        scratch = index_dir / _SCRATCH
        try:
            vectors, copy_cosine = _tiled_vectors(reference, options, scratch)
            articles = list(_tiled_articles(reference, options, vectors))
            tiled = time.perf_counter()
            written = write_generation(
                layout,
                None,
                articles,
                (),
                dimension=reference.vectors.shape[1],
                vector_threshold=options.vector_threshold,
            )
            manifest = finish_manifest(
                written,
                _template(reference, options),
                started=tiled,
                stages={},
                change={"kind": "build", "added": len(articles), "encoded_passages": 0},
            )
            layout.publish(written.paths)
        except BaseException:
            layout.remove_leftovers()
            raise
        finally:
            scratch.unlink(missing_ok=True)
    return SyntheticIndex(
        manifest=manifest,
        tile_seconds=tiled - started,
        write_seconds=time.perf_counter() - tiled,
        copy_cosine=copy_cosine,
    )


def _tiled_vectors(
    reference: ReferenceCorpus, options: SyntheticOptions, path: Path
) -> tuple[Matrix, float]:
    """Every synthetic row's vector, in a memory-mapped scratch file; and the mean
    cosine of the noisy copies to their originals."""
    rows, copies = _row_sources(reference, options.passages)
    basis = noise_basis(reference.vectors, kind=options.noise)
    rng = np.random.default_rng(options.seed)
    dimension = reference.vectors.shape[1]
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=(options.passages, dimension))
    cosines: list[float] = []
    for at in range(0, options.passages, _CHUNK_ROWS):
        originals = reference.vectors[rows[at : at + _CHUNK_ROWS]]
        noisy = copies[at : at + _CHUNK_ROWS] > 0
        chunk = originals.copy()
        chunk[noisy] = perturbed(originals[noisy], basis, sigma=options.sigma, rng=rng)
        out[at : at + len(chunk)] = chunk
        if noisy.any():
            cosines.append(float(np.einsum("ij,ij->i", chunk[noisy], originals[noisy]).mean()))
    out.flush()
    return out, float(np.mean(cosines)) if cosines else 1.0


def _row_sources(
    reference: ReferenceCorpus, size: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """For each synthetic row: the reference row it copies, and its copy number."""
    per_copy = np.array([row for article in reference.articles for row in article.rows])
    repeats = -(-size // len(per_copy))
    rows = np.tile(per_copy, repeats)[:size]
    copies = np.repeat(np.arange(repeats), len(per_copy))[:size]
    return rows.astype(np.int64), copies.astype(np.int64)


def _tiled_articles(
    reference: ReferenceCorpus, options: SyntheticOptions, vectors: Matrix
) -> Iterator[PreparedArticle]:
    """The copies in order (copy 0 of every article, then copy 1, ...), rows matching
    `_row_sources`; the texts are the reference's own string objects, shared."""
    at = 0
    copy = 0
    while at < options.passages:
        for number, article in enumerate(reference.articles):
            remaining = options.passages - at
            if remaining <= 0:
                return
            count = min(len(article.passages), remaining)
            if count == 0:
                continue  # an article without passages (none in a real build)
            yield _copy_of(article, copy, number, count, vectors[at : at + count], options)
            at += count
        copy += 1


def _copy_of(
    article: ReferenceArticle,
    copy: int,
    number: int,
    count: int,
    vectors: Matrix,
    options: SyntheticOptions,
) -> PreparedArticle:
    article_id = article.record.id if copy == 0 else f"{article.record.id}~{copy}"
    day = _FIRST_DAY + timedelta(days=(copy * 7919 + number * 104_729) % _DAYS)
    record = dataclasses.replace(
        article.record,
        id=article_id,
        date=day.isoformat(),
        source=_SOURCES[(copy * 7 + number) % len(_SOURCES)],
    )
    passages = [
        dataclasses.replace(passage, passage_id=f"{article_id}#{n}", article_id=article_id)
        for n, passage in enumerate(article.passages[:count])
    ]
    translations = article.translations[:count] if options.translations else (None,) * count
    return PreparedArticle(
        record=record,
        passages=passages,
        texts=article.texts[:count],
        vectors=vectors,
        translations=translations,
    )


def _template(reference: ReferenceCorpus, options: SyntheticOptions) -> Manifest:
    """The reference's settings (model, its export, chunking, translation and pivot);
    `finish_manifest` fills in the counts."""
    manifest = reference.manifest
    translation = manifest.translation
    if not options.translations:
        translation = dataclasses.replace(
            translation, reason="synthetic index: the passages' translations left out"
        )
    return dataclasses.replace(
        manifest,
        translation=translation,
        sources=[f"synthetic: {options.passages} passages tiled from {reference.index_dir}"],
        skipped_inputs=0,
        warnings=0,
        stage_seconds={},
    )


def _link_models(reference_dir: Path, index_dir: Path) -> None:
    """The reference's exported model under `index_dir/models/`, where the manifest
    says it is: hard links (copies where the filesystem has none)."""
    source = reference_dir / MODELS_DIR
    if not source.is_dir():
        return  # nothing was exported (a stand-in encoder): queries use what the test gives
    for path in sorted(source.rglob("*")):
        target = index_dir / MODELS_DIR / path.relative_to(source)
        if path.is_dir() or target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
