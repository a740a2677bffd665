"""The index on disk: generations, the live pointer, the manifest and the stores.

    index/
      current -> generations/<id>       symlink, switched atomically (rename)
      generations/<id>/                 one complete generation, immutable once live
        manifest.json                   how it was built (see `indexer.manifest`)
        metadata.sqlite, row_*.npy      articles and passages (`indexer.metadata_store`)
        vectors.f32                     float32 (rows, dim), L2-normalised, mmap-able
        vectors.faiss                   IVF lists above a size, or vectors.usearch, an HNSW
                                        graph (`indexer.vector_index`)
        tantivy/                        the BM25 index (`indexer.lexical_segments`)
      generations/<id>.partial/         a build or change in progress (or a crashed one)
      cache/encodings.sqlite            vectors and translations computed so far
      models/<hash>/                    the model exported to ONNX
      .build.lock                       one writer at a time

A writer fills a `.partial` directory, renames it to its final name and then
replaces `current` with one `rename(2)` of a fresh symlink: a reader sees the old
generation or the new one, never half of either. A crash at any moment leaves
`current` untouched; the next writer removes the leftovers.

Rows (passage numbers) are never reused: a change appends rows and marks removed
ones dead. So a change shares what it can with the generation before it instead
of copying it: tantivy segment files are hard links, and `vectors.f32` is the same
file (a hard link) with the new rows appended. A reader maps only the rows its
manifest names, so appending never changes what it sees; a writer that crashed
after appending leaves rows past every manifest's count, which the next writer
cuts off before appending its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from indexer.errors import IndexCorruptError, IndexNotFoundError, WriterBusyError

__all__ = [
    "ArticleHeading",
    "ArticleRecord",
    "GenerationPaths",
    "IndexLayout",
    "PassageRecord",
    "extend_vectors",
    "open_vectors",
    "read_vectors",
]

_PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    id: str
    title: str
    text: str
    lang: str
    date: str | None
    source: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class ArticleHeading:
    """An article without its text: what a search result shows of it."""

    id: str
    title: str
    lang: str
    date: str | None
    source: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class PassageRecord:
    row: int
    passage_id: str
    article_id: str
    lang: str
    start: int  # character offsets into the article text, end exclusive
    end: int
    # The `indexer.boilerplate` rule when the passage is mostly boilerplate (a photo
    # credit, an author bio, a quoted tweet), else None. Written only when set, so
    # indexes built before it existed load unchanged, and so do unflagged lines.
    boilerplate: str | None = None


@dataclass(frozen=True, slots=True)
class GenerationPaths:
    root: Path

    @property
    def generation_id(self) -> str:
        return self.root.name.removesuffix(_PARTIAL_SUFFIX)

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def vectors(self) -> Path:
        return self.root / "vectors.f32"

    @property
    def tantivy(self) -> Path:
        return self.root / "tantivy"


class IndexLayout:
    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.generations_dir = index_dir / "generations"
        self.current_link = index_dir / "current"
        self.lock_file = index_dir / ".build.lock"

    def live_generation(self) -> GenerationPaths:
        """The generation `current` points to; raises if there is none."""
        build_hint = f"Build it with: python -m indexer build --index {self.index_dir}"
        if not self.current_link.is_symlink():
            raise IndexNotFoundError(f"No index in {self.index_dir}/ (no 'current'). {build_hint}")
        target = self.current_link.resolve()
        if not target.is_dir():
            raise IndexCorruptError(
                f"{self.current_link} points to {target}, which does not exist. {build_hint}"
            )
        return GenerationPaths(target)

    def live_generation_id(self) -> str | None:
        """Cheap check for hot reload: the name `current` points to, or None."""
        try:
            return Path(os.readlink(self.current_link)).name
        except OSError:
            return None

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self.lock_file.open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as error:
                raise WriterBusyError(
                    f"Another build is running on {self.index_dir}/ (it holds {self.lock_file}). "
                    "Wait for it to finish."
                ) from error
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove_leftovers(self) -> list[Path]:
        """Partial generations of crashed builds. Call only while holding the lock."""
        removed = []
        if self.generations_dir.is_dir():
            for path in self.generations_dir.iterdir():
                if path.name.endswith(_PARTIAL_SUFFIX):
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
        for path in self.index_dir.glob(".current.*"):
            path.unlink(missing_ok=True)
            removed.append(path)
        return removed

    def new_partial(self, generation_id: str) -> GenerationPaths:
        root = self.generations_dir / f"{generation_id}{_PARTIAL_SUFFIX}"
        root.mkdir(parents=True)
        return GenerationPaths(root)

    def publish(self, partial: GenerationPaths) -> GenerationPaths:
        """Make a finished partial generation live, atomically.

        Then prune: keep the new generation and the one it replaced (a running
        server may still be answering a request from it); remove the rest.
        """
        _fsync_tree(partial.root)
        previous = self.live_generation_id()
        final = self.generations_dir / partial.generation_id
        os.rename(partial.root, final)
        _fsync_dir(self.generations_dir)
        temporary_link = self.index_dir / f".current.{os.getpid()}"
        temporary_link.unlink(missing_ok=True)
        os.symlink(Path("generations") / final.name, temporary_link)
        os.replace(temporary_link, self.current_link)
        _fsync_dir(self.index_dir)
        keep = {final.name, previous}
        for path in self.generations_dir.iterdir():
            if path.name not in keep and not path.name.endswith(_PARTIAL_SUFFIX):
                shutil.rmtree(path, ignore_errors=True)
        return GenerationPaths(final)


def open_vectors(path: Path, rows: int, dimension: int) -> npt.NDArray[np.float32]:
    """The first `rows` rows of a vectors file, memory-mapped read-only."""
    if rows == 0:
        return np.zeros((0, dimension), dtype=np.float32)
    needed = rows * dimension * 4
    try:
        size = path.stat().st_size
        if size < needed:
            raise IndexCorruptError(
                f"{path} holds {size} bytes; the manifest needs {rows} rows of {dimension} "
                f"float32 ({needed} bytes). Rebuild with: python -m indexer build"
            )
        return np.memmap(path, dtype=np.float32, mode="r", shape=(rows, dimension))
    except OSError as error:
        raise IndexCorruptError(
            f"Cannot read {path}: {error.strerror}. Rebuild with: python -m indexer build"
        ) from error


def read_vectors(paths: GenerationPaths) -> npt.NDArray[np.float32]:
    """A generation's vectors, every row (dead ones included), by its manifest."""
    try:
        manifest = json.loads(paths.manifest.read_text(encoding="utf-8"))
        rows, dimension = int(manifest["rows"]), int(manifest["model"]["dimension"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise IndexCorruptError(f"Cannot read {paths.manifest}: {error}") from error
    return open_vectors(paths.vectors, rows, dimension)


def extend_vectors(
    previous: Path | None, target: Path, rows: int, dimension: int, new: npt.NDArray[np.float32]
) -> None:
    """`target` = the first `rows` rows of `previous` (shared by a hard link) + `new`."""
    if previous is None:
        with target.open("wb") as handle:
            handle.write(np.ascontiguousarray(new, dtype=np.float32).tobytes())
        return
    try:
        os.link(previous, target)
    except OSError:  # a filesystem without hard links: a copy, correct but slower
        shutil.copyfile(previous, target)
    with target.open("r+b") as handle:
        handle.truncate(rows * dimension * 4)  # a crashed writer's rows, never anyone's
        handle.seek(0, os.SEEK_END)
        handle.write(np.ascontiguousarray(new, dtype=np.float32).tobytes())


def _fsync_tree(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(directory, name), "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(Path(directory))


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
