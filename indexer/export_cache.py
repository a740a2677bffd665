"""ONNX exports found by the model's own files, so a build whose export exists loads no torch.

A build needs torch only to export the model (`indexer.onnx_export`): passages are
embedded by ONNX Runtime. Yet finding the export (`models/<sha256 of the weights>/`
in the index) meant loading the model with sentence-transformers first, to hash
its weights: about 9 s of imports and loading on this 2-core machine, then the
int8 quantisation and the agreement checks (4-11 s) in every fresh index
directory. On the XQuAD corpus those were 40% of a 50 s build.

This cache keys a finished export by a digest of the model *directory's files*
(BLAKE2b over every file's relative path and bytes, 0.25 s for the 88 MB default
model), taken without importing torch. A hit gives the export and what the build
needs to know of the model (its name, dimension and sequence limit), recorded when
the export was made; the build then embeds, counts tokens and writes its manifest
exactly as before, torch never imported. A miss (a first build, a changed file, a
model given by hub name rather than by directory) takes the torch path, which
stores its export here afterwards.

Entries are immutable: written whole into a `.partial` directory, then renamed.
One per (digest, precision), since an int8 entry also holds the fp32 model the
passages are embedded with. A broken or unreadable entry is a miss, and a cache
that cannot be written costs only the next build's time: neither fails a build.

The cache does not grow without end: each store removes the entries past the
`_KEEP_ENTRIES` most recently used (a hit or a store marks its entry used) that
nothing used for a day, and the leftovers of killed builds. An entry is 109 MB
for the default model. Indexes built from a removed entry keep their files (hard
links or copies); an entry removed while a build links from it is a miss there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from indexer.model_stamp import STAMP_SUFFIX, write_stamp
from indexer.onnx_encoder import (
    CONFIG_FILE,
    EXPORT_VERSION,
    MODEL_FILE_BY_PRECISION,
    TOKENIZER_FILE,
)

__all__ = [
    "CachedModel",
    "ModelFacts",
    "default_export_cache",
    "find_cached_export",
    "link_export",
    "model_source_digest",
    "prune_export_cache",
    "remember_export",
]

log = logging.getLogger(__name__)

_FACTS_FILE = "model.json"  # in an entry, beside the export's own files
_RECORD_FILE = "export.json"  # written by `indexer.onnx_export`
_DIGEST_VERSION = 1  # part of the digest: bump when an entry's contents change
_READ_SIZE = 1 << 20
_KEEP_ENTRIES = 4  # most recently used entries always kept
_KEEP_USED_WITHIN_S = 24 * 3600  # and any entry used this recently
_LEFTOVER_AGE_S = 3600  # a `.partial` or `.stale` directory this old: a killed build's


def default_export_cache() -> Path:
    """`$XDG_CACHE_HOME/bilingual-search/onnx`, else `~/.cache/bilingual-search/onnx`."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base else Path.home() / ".cache"
    return root / "bilingual-search" / "onnx"


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What a build records of its model: the manifest's `model` block, and the token
    limit chunking keeps under. `indexer.encoder.Encoder` has the same attributes."""

    name: str
    model_ref: str
    dimension: int
    max_seq_length: int  # tokens, special tokens included

    @property
    def max_passage_tokens(self) -> int:
        """Tokens a passage may have without truncation: [CLS] and [SEP] take two."""
        return self.max_seq_length - 2


@dataclass(frozen=True, slots=True)
class CachedModel:
    facts: ModelFacts
    export_dir: Path  # the cached export's files (as `onnx_export.export_model` makes them)
    export_name: str  # its directory name in an index's `models/` (the weights' sha256)


def model_source_digest(model_ref: str) -> str | None:
    """BLAKE2b-256 over the model directory's files (relative paths and bytes), or
    None when `model_ref` names no local directory (a hub name: only the loaded
    model knows which files it came from) or one that cannot be read (logged)."""
    directory = Path(model_ref).expanduser()
    if not directory.is_dir():
        return None
    seed = f"model files v{_DIGEST_VERSION}, export v{EXPORT_VERSION}\n"
    digest = hashlib.blake2b(seed.encode(), digest_size=32)
    try:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            relative = path.relative_to(directory).as_posix()
            digest.update(f"{relative}\0{path.stat().st_size}\0".encode())
            with path.open("rb") as handle:
                while block := handle.read(_READ_SIZE):
                    digest.update(block)
    except OSError as error:
        log.warning("could not read the model at %s (%s): no export cache", model_ref, error)
        return None
    return digest.hexdigest()


def _entry(cache_root: Path, digest: str, precision: str) -> Path:
    return cache_root / f"{digest}-{precision}"


def find_cached_export(
    cache_root: Path, model_ref: str, precision: str, *, digest: str | None = None
) -> CachedModel | None:
    """The cached export of the model at `model_ref` with `precision`'s file, or None.
    `digest`: the model's `model_source_digest`, when the caller has taken it."""
    digest = digest or model_source_digest(model_ref)
    if digest is None:
        return None
    entry = _entry(cache_root, digest, precision)
    found = _read_entry(entry, model_ref, precision)
    if found is not None:
        _mark_used(entry)
    return found


def _read_entry(entry: Path, model_ref: str, precision: str) -> CachedModel | None:
    """The entry, if it is complete and readable; a damaged one is logged."""
    try:
        facts = json.loads((entry / _FACTS_FILE).read_text(encoding="utf-8"))
        record = json.loads((entry / _RECORD_FILE).read_text(encoding="utf-8"))
        needed = {CONFIG_FILE, TOKENIZER_FILE, MODEL_FILE_BY_PRECISION["fp32"]}
        needed.add(MODEL_FILE_BY_PRECISION[precision])
        missing = sorted(name for name in needed if not (entry / name).is_file())
        if missing or precision not in record["sha256"]:
            log.warning("export cache entry %s is incomplete (%s): exporting again", entry, missing)
            return None
        return CachedModel(
            facts=ModelFacts(
                name=str(facts["name"]),
                model_ref=model_ref,
                dimension=int(facts["dimension"]),
                max_seq_length=int(facts["max_seq_length"]),
            ),
            export_dir=entry,
            export_name=str(facts["export_name"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.warning("export cache entry %s unreadable (%s): exporting again", entry, error)
        return None


def remember_export(
    cache_root: Path,
    model_ref: str,
    precision: str,
    facts: ModelFacts,
    export_dir: Path,
    *,
    digest: str | None = None,
) -> None:
    """Store `export_dir` (a checked export of the model at `model_ref` holding
    `precision`'s file) for later builds; best effort, never raises. `digest` as in
    `find_cached_export`."""
    try:
        digest = digest or model_source_digest(model_ref)
        if digest is None:
            return
        entry = _entry(cache_root, digest, precision)
        if entry.is_dir():
            if _read_entry(entry, model_ref, precision) is not None:
                _mark_used(entry)
                return
            stale = cache_root / f".{entry.name}.{os.getpid()}.stale"
            os.rename(entry, stale)  # a damaged entry is replaced
            shutil.rmtree(stale, ignore_errors=True)
        cache_root.mkdir(parents=True, exist_ok=True)
        partial = cache_root / f".{entry.name}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        link_export(export_dir, partial)
        record = {
            "name": facts.name,
            "dimension": facts.dimension,
            "max_seq_length": facts.max_seq_length,
            "export_name": export_dir.name,
        }
        (partial / _FACTS_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        try:
            os.rename(partial, entry)
        except OSError:  # another build stored the same entry meanwhile
            shutil.rmtree(partial, ignore_errors=True)
    except OSError as error:
        log.warning(
            "could not store the export in %s (%s): the next build exports again", cache_root, error
        )
        return
    prune_export_cache(cache_root)


def prune_export_cache(cache_root: Path, *, now: float | None = None) -> list[Path]:
    """Remove the entries past the `_KEEP_ENTRIES` most recently used that were not
    used within `_KEEP_USED_WITHIN_S`, and killed builds' leftovers older than
    `_LEFTOVER_AGE_S`; the entries removed. Best effort: never raises. An entry's
    last use is its directory's modification time (`_mark_used`)."""
    now = time.time() if now is None else now
    entries: list[tuple[float, Path]] = []
    leftovers: list[Path] = []
    try:
        for path in cache_root.iterdir():
            if path.is_symlink() or not path.is_dir():
                continue
            used = path.stat().st_mtime
            if path.name.startswith("."):
                if now - used > _LEFTOVER_AGE_S:
                    leftovers.append(path)
            else:
                entries.append((used, path))
    except OSError as error:
        log.warning("could not look through the export cache %s (%s)", cache_root, error)
        return []
    entries.sort(reverse=True)
    removed: list[Path] = []
    for used, entry in entries[_KEEP_ENTRIES:]:
        if now - used <= _KEEP_USED_WITHIN_S:
            continue
        stale = cache_root / f".{entry.name}.{os.getpid()}.stale"
        try:
            os.rename(entry, stale)  # gone from view at once, whatever rmtree leaves
        except OSError:
            continue
        shutil.rmtree(stale, ignore_errors=True)
        removed.append(entry)
        days = (now - used) / 86400
        log.info("export cache: removed %s, last used %.0f days ago", entry.name, days)
    for leftover in leftovers:
        shutil.rmtree(leftover, ignore_errors=True)
    return removed


def _mark_used(entry: Path) -> None:
    """Record a use of `entry` (its modification time) for `prune_export_cache`."""
    with contextlib.suppress(OSError):  # a read-only cache is only pruned less well
        os.utime(entry)


def link_export(source: Path, target: Path) -> None:
    """Hard-link (else copy) an export's files from `source` into the directory
    `target` (export files are never changed once written), then stamp the model
    files on both sides: a new link changes a file's ctime, which voids the stat
    stamp that spares the query side hashing the model at start-up."""
    for file in source.iterdir():
        if not file.is_file() or file.name == _FACTS_FILE or file.name.endswith(STAMP_SUFFIX):
            continue
        try:
            os.link(file, target / file.name)
        except OSError:  # another file system, or links not allowed
            shutil.copy2(file, target / file.name)
    record = json.loads((target / _RECORD_FILE).read_text(encoding="utf-8"))
    for precision, sha256 in record.get("sha256", {}).items():
        for directory in (source, target):
            model = directory / MODEL_FILE_BY_PRECISION[precision]
            if model.is_file():
                write_stamp(model, sha256)
