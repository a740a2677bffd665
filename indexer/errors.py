"""Domain errors of the indexer and the on-disk index.

Every message names the bad input and says what to do about it; the command line
and the web layer map these to exit codes and HTTP statuses, nothing else does.
"""

from __future__ import annotations

__all__ = [
    "DiskFullError",
    "IndexCorruptError",
    "IndexNotFoundError",
    "IndexUnavailableError",
    "IndexerError",
    "InputProblemsError",
    "ModelLoadError",
    "SettingsError",
    "SourceNotFoundError",
    "WriterBusyError",
]


class IndexerError(Exception):
    """Base class: an error the user can act on, with a message saying how."""


class SettingsError(IndexerError):
    """A setting (flag or environment variable) has a value we cannot use."""


class SourceNotFoundError(IndexerError):
    """A `--source` the user named does not exist (and `--allow-missing` was not given)."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            f"Source path(s) not found: {', '.join(missing)}; the live index was not touched. "
            "Fix the path, or pass --allow-missing to build from the other sources."
        )
        self.missing = missing


class WriterBusyError(IndexerError):
    """Another build or change holds the index's writer lock; trying again later works."""


class DiskFullError(IndexerError):
    """The disk filled up while a generation was written; the partial one was removed."""


class ModelLoadError(IndexerError):
    """The embedding model could not be loaded (missing path, no network for a hub name)."""


class IndexUnavailableError(IndexerError):
    """Base class: the on-disk index cannot be served (missing or unreadable)."""


class IndexNotFoundError(IndexUnavailableError):
    """No live generation in the index directory: it was never built."""


class IndexCorruptError(IndexUnavailableError):
    """The live generation is unreadable or inconsistent (e.g. manifest and vectors disagree)."""


class InputProblemsError(IndexerError):
    """`--strict` and some inputs were bad: the build stops before touching the live index."""

    def __init__(self, problems: list[str]) -> None:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{len(problems)} input problem(s) and --strict is set; the live index was not "
            f"touched:\n  {shown}{more}\nFix the inputs, or drop --strict to skip them."
        )
        self.problems = problems
