"""The articles of a source folder, found without ever reading outside it.

A folder is walked recursively, in sorted order, for files whose names end in
one of the article suffixes. Symbolic links are resolved and checked against the
folder (itself resolved first, so a source given through a link works):

- a link to a regular file inside the folder is read, under the link's own
  relative path as the article id (say `latest.txt` pointing into `archive/`);
- a link to a folder is never followed, even one inside the tree: the folder is
  read where it lies, so nothing is indexed twice and no walk can loop;
- a link out of the folder, a broken link and a link loop are reported with their
  path and skipped, and so is anything that is neither a regular file nor a folder
  (a FIFO, a socket, a device): none of them is ever opened.

Files with other suffixes are not articles and are passed over silently, and so
are links to such files.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.problems import InputProblem

__all__ = ["FolderFile", "walk_folder"]


@dataclass(frozen=True, slots=True)
class FolderFile:
    path: Path  # what to open: the file itself, or the resolved target of a link
    location: str  # the path as found in the folder, for messages
    article_id: str  # relative to the folder, with "/" separators


def walk_folder(folder: Path, suffixes: tuple[str, ...]) -> Iterator[FolderFile | InputProblem]:
    """Every article file of `folder`, and a problem for everything skipped on the way."""
    yield from _walk(folder.resolve(), folder, folder, suffixes)


def _walk(
    root: Path, folder: Path, directory: Path, suffixes: tuple[str, ...]
) -> Iterator[FolderFile | InputProblem]:
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as error:
        yield InputProblem(str(directory), f"unreadable folder: {error.strerror or error}")
        return
    for entry in entries:
        path = Path(entry.path)
        is_article = path.suffix.lower() in suffixes
        article = FolderFile(path, str(path), path.relative_to(folder).as_posix())
        if entry.is_symlink():
            yield from _follow_link(root, article, is_article=is_article)
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(root, folder, path, suffixes)
        elif entry.is_file(follow_symlinks=False):
            if is_article:
                yield article
        elif is_article:
            kind = _kind(entry.stat(follow_symlinks=False).st_mode)
            yield InputProblem(str(path), f"not a regular file but {kind}")


def _follow_link(
    root: Path, link: FolderFile, *, is_article: bool
) -> Iterator[FolderFile | InputProblem]:
    try:
        target = link.path.resolve(strict=True)
    except FileNotFoundError:
        yield InputProblem(link.location, f"broken symbolic link to {os.readlink(link.path)}")
        return
    except RuntimeError:  # Python < 3.13 reports a loop this way
        yield InputProblem(link.location, "symbolic link loop")
        return
    except OSError as error:
        reason = "symbolic link loop" if error.errno == errno.ELOOP else "unreadable link"
        yield InputProblem(link.location, f"{reason}: {error.strerror or error}")
        return
    if not target.is_relative_to(root):
        if is_article or target.is_dir():
            yield InputProblem(
                link.location, f"symbolic link to {target}, outside the source folder; not followed"
            )
        return
    mode = target.stat().st_mode
    if stat.S_ISDIR(mode):
        yield InputProblem(
            link.location, f"symbolic link to the folder {target}; not followed (read where it is)"
        )
    elif is_article and stat.S_ISREG(mode):
        yield FolderFile(target, link.location, link.article_id)
    elif is_article:
        yield InputProblem(link.location, f"symbolic link to {_kind(mode)}")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "an unusual file"
