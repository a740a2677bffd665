"""Give freed heap memory back to the operating system after large one-off work.

glibc's malloc keeps memory a program frees inside its heap (one arena per thread
that allocated), for reuse, so the process's resident size stays at its peak.
Start-up's background work (the article facts and the name vocabulary, hundreds of
MB of temporary Python objects at a million passages) leaves such freed memory
behind in arenas no request thread uses again. `malloc_trim(0)` returns it:
measured at a million passages, 366 -> 320 MB of anonymous memory in a warm engine.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

__all__ = ["return_freed_memory"]

log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def return_freed_memory() -> None:
    """Trim every malloc arena; a no-op where the C library has no `malloc_trim`."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
        log.debug("returned freed heap memory to the system")
