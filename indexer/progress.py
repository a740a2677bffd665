"""A small progress bar on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    def __init__(self, *, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = self._stream.isatty() if enabled is None else enabled
        self._label, self._total, self._done, self._started = "", 0, 0, 0.0
        self._unit, self._scale = "", 1.0
        self._last_draw = 0.0

    def stage(self, label: str, total: int, *, unit: str = "", scale: float = 1.0) -> None:
        """A new bar counting to `total`, shown divided by `scale` with `unit`
        (e.g. characters as `unit="M chars", scale=1e6`)."""
        self._finish_line()
        self._label, self._total, self._done = label, total, 0
        self._unit, self._scale = unit, scale
        self._started = time.perf_counter()
        self._draw(force=True)

    def advance(self, count: int = 1) -> None:
        self._done += count
        self._draw(force=self._done >= self._total)

    def close(self) -> None:
        self._finish_line()

    def _draw(self, *, force: bool) -> None:
        if not self.enabled or not self._label:
            return
        now = time.perf_counter()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        width = 30
        filled = width * self._done // self._total if self._total else width
        rate = self._done / max(now - self._started, 1e-9)
        if self._unit:
            scale, unit = self._scale, self._unit
            count = f"{self._done / scale:.1f}/{self._total / scale:.1f} {unit} {rate / scale:6.2f}"
            count += f" {unit}/s"
        else:
            count = f"{self._done}/{self._total} {rate:7.1f}/s"
        self._stream.write(f"\r{self._label:<12} [{'#' * filled}{'.' * (width - filled)}] {count}")
        self._stream.flush()

    def _finish_line(self) -> None:
        if self.enabled and self._label:
            self._stream.write("\n")
            self._stream.flush()
        self._label = ""
