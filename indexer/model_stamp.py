"""A model file's sha256 without rehashing it on every start: a stat stamp beside it.

The query side checks the ONNX file against the sha256 in the manifest, so a
replaced or damaged model never answers queries. Hashing the ~90 MB file took
0.2-0.6 s of every start-up. Instead, once the sha256 of the file is known (the
export computes it; a start that had to hash it learns it), a stamp file beside
the model records it with the file's stat: size, mtime and ctime in nanoseconds,
and inode. A later start whose stat is identical trusts the stamp; any other stat
(the file rewritten, copied, touched, hard-linked again) means a full hash, which
then renews the stamp. ctime cannot be set from user space, so a same-size edit
that restores the mtime is still caught.

Writing the stamp is best effort: a read-only index directory only costs the hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

__all__ = ["STAMP_SUFFIX", "file_sha256", "sha256_matches", "write_stamp"]

log = logging.getLogger(__name__)

STAMP_SUFFIX = ".sha256.json"  # model.onnx -> model.onnx.sha256.json


def file_sha256(path: Path) -> str:
    """The full hash, read in 1 MiB blocks (~0.2-0.6 s for the 90 MB MiniLM export)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + STAMP_SUFFIX)


def _stat_key(path: Path) -> dict[str, int]:
    info = path.stat()
    return {
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "ctime_ns": info.st_ctime_ns,
        "inode": info.st_ino,
    }


def write_stamp(path: Path, sha256: str) -> None:
    """Record that `path`, as it is now, has `sha256` (computed by the caller)."""
    stamp = _stamp_path(path)
    partial = stamp.with_name(stamp.name + ".partial")
    try:
        record = {"sha256": sha256, **_stat_key(path)}
        partial.write_text(json.dumps(record, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(partial, stamp)
    except OSError as error:  # read-only directory: the next start hashes again
        log.debug("cannot write %s: %s", stamp, error)


def _stamped_sha256(path: Path) -> str | None:
    """The stamp's sha256 if the stamp describes the file exactly as it is now."""
    try:
        record = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
        current = _stat_key(path)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or any(record.get(k) != v for k, v in current.items()):
        return None
    sha256 = record.get("sha256")
    return sha256 if isinstance(sha256, str) else None


def sha256_matches(path: Path, expected: str) -> bool:
    """Whether `path` has sha256 `expected`: from the stamp when the file's stat is
    unchanged (microseconds), else by hashing it (and stamping it if it matches)."""
    if _stamped_sha256(path) == expected:
        return True
    actual = file_sha256(path)
    if actual == expected:
        write_stamp(path, actual)
    return actual == expected
