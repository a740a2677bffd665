"""The heap after large one-off work: freed memory back to the system, long-lived
objects out of the garbage collector's way.

glibc's malloc keeps memory a program frees inside its heap (one arena per thread
that allocated), for reuse, so the process's resident size stays at its peak.
Start-up's background work (the article facts and the name vocabulary, hundreds of
MB of temporary Python objects at a million passages) leaves such freed memory
behind in arenas no request thread uses again. `malloc_trim(0)` returns it:
measured at a million passages, 366 -> 320 MB of anonymous memory in a warm engine.

CPython's cyclic collector now and then walks every tracked object (a "gen2"
collection), the loaded index's included, while holding the GIL: on the XQuAD
engine (74,000 tracked objects) such a pass paused a search for up to 33 ms, about
once in a few hundred searches. `serve` freezes what start-up loaded
(`gc.freeze`: the collector never walks it again; objects are still freed when
their last reference goes), after which the longest pause was 1.7 ms. A frozen
object in a reference cycle is never collected, so a reload unfreezes first: the
generation it replaces has such cycles (513 objects on that index), and from then
on the collector works as it did without freezing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging
import threading

__all__ = ["freeze_loaded", "freeze_startup", "return_freed_memory", "unfreeze_for_reload"]

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


class _Frozen:
    """Whether this process froze its start-up heap and has not unfrozen it since."""

    lock = threading.Lock()
    active = False


def freeze_startup() -> None:
    """`serve`, once loaded: freeze its heap. Only a server calls it: a library
    user's heap is its own. No `gc.collect()` first: at that point it found nothing
    unreachable on the seeds or the XQuAD index, for 28-85 ms of start-up."""
    with _Frozen.lock:
        gc.freeze()
        _Frozen.active = True


def freeze_loaded() -> None:
    """After a background load of the first generation (the article facts, the name
    vocabulary): freeze its objects too, unless start-up has not frozen or a reload
    has since unfrozen."""
    with _Frozen.lock:
        if _Frozen.active:
            gc.freeze()


def unfreeze_for_reload() -> None:
    """When a generation replaces another: the old one's cycles must be collectable."""
    with _Frozen.lock:
        if _Frozen.active:
            gc.unfreeze()
            _Frozen.active = False
