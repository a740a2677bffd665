"""The index on disk: generations, the live pointer, the manifest and the stores.

    index/
      current -> generations/<id>       symlink, switched atomically (rename)
      generations/<id>/                 one complete, immutable build
        manifest.json                   how it was built (see `indexer.manifest`)
        articles.jsonl                  one article per line (id, title, text, ...)
        passages.jsonl                  one passage per line; line number == row
        embeddings.npy                  float32 (passages, dim), L2-normalised, mmap-able
        tantivy/                        the BM25 index; each document carries its `row`
      generations/<id>.partial/         a build in progress (or a crashed one)
      .build.lock                       one build at a time

A build writes a `.partial` directory, renames it to its final name and then
replaces `current` with one `rename(2)` of a fresh symlink: a reader sees the old
generation or the new one, never half of either. A crash at any moment leaves
`current` untouched; the next build removes the leftovers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from indexer.errors import IndexCorruptError, IndexerError, IndexNotFoundError

__all__ = [
    "ArticleRecord",
    "GenerationPaths",
    "IndexLayout",
    "PassageRecord",
    "read_articles_store",
    "read_passages_store",
    "write_jsonl",
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
    def articles(self) -> Path:
        return self.root / "articles.jsonl"

    @property
    def passages(self) -> Path:
        return self.root / "passages.jsonl"

    @property
    def embeddings(self) -> Path:
        return self.root / "embeddings.npy"

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
                raise IndexerError(
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


def write_jsonl(path: Path, records: list[ArticleRecord] | list[PassageRecord]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            fields = asdict(record)
            if isinstance(record, PassageRecord) and record.boilerplate is None:
                del fields["boilerplate"]
            handle.write(json.dumps(fields, ensure_ascii=False) + "\n")


def read_articles_store(paths: GenerationPaths) -> list[ArticleRecord]:
    try:
        return [ArticleRecord(**record) for record in _read_jsonl(paths.articles)]  # type: ignore[arg-type]
    except TypeError as error:
        raise _bad_record(paths.articles, error) from error


def read_passages_store(paths: GenerationPaths) -> list[PassageRecord]:
    try:
        passages = [PassageRecord(**record) for record in _read_jsonl(paths.passages)]  # type: ignore[arg-type]
    except TypeError as error:
        raise _bad_record(paths.passages, error) from error
    for expected, passage in enumerate(passages):
        if passage.row != expected:
            raise IndexCorruptError(
                f"{paths.passages}: line {expected + 1} has row {passage.row}; the generation "
                "is corrupt. Rebuild it with: python -m indexer build"
            )
    return passages


def _bad_record(path: Path, error: TypeError) -> IndexCorruptError:
    return IndexCorruptError(
        f"{path} holds a record of the wrong shape ({error}). Rebuild the index with: "
        "python -m indexer build"
    )


def _read_jsonl(path: Path) -> Iterator[dict[str, object]]:
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as error:
                    raise IndexCorruptError(
                        f"{path}:{number} is not valid JSON ({error.msg}). Rebuild the index "
                        "with: python -m indexer build"
                    ) from error
    except OSError as error:
        raise IndexCorruptError(
            f"Cannot read {path}: {error.strerror}. Rebuild with: python -m indexer build"
        ) from error


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
