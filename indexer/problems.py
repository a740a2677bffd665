"""An input that could not be indexed as given: where it is and what was wrong."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["InputProblem"]


@dataclass(frozen=True, slots=True)
class InputProblem:
    location: str  # "path" or "path:line"
    reason: str
    skipped: bool = True  # False: a warning, the article was still indexed

    def __str__(self) -> str:
        verdict = "skipped" if self.skipped else "kept"
        return f"{self.location}: {self.reason} ({verdict})"
