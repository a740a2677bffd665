"""Keep the calling thread off one core for a while (Linux thread affinity).

A query's translation runs in an Apertium pipeline whose stages all sit on one
core (`indexer.translation.pipeline_cores`), while the search thread encodes the
query. Left to the scheduler, the encoding often landed on the pipeline's core,
where the two took turns instead of running side by side: with the stages pinned
and the encoding free, English questions were no faster than with nothing pinned
(13.44 vs 12.89 ms p50 over HTTP); with the encoding kept off the pipeline's core,
12.19 ms (600 XQuAD questions, interleaved).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

__all__ = ["kept_off_core"]

log = logging.getLogger(__name__)


@contextlib.contextmanager
def kept_off_core(core: int | None) -> Iterator[None]:
    """Within the block, this thread runs on the cores it may use other than `core`;
    after it, on all of them again. Nothing changes for None, where `core` is the
    only core left, or where affinity cannot be set (not Linux, refused): the block
    runs as it would have. Two system calls each way, a few microseconds."""
    allowed = _affinity() if core is not None else None
    others = allowed - {core} if allowed is not None else set()
    moved = bool(others) and _set_affinity(others)
    try:
        yield
    finally:
        if moved and allowed is not None:
            _set_affinity(allowed)


def _affinity() -> set[int] | None:
    try:
        return set(os.sched_getaffinity(0))  # 0: the calling thread
    except (OSError, AttributeError):
        return None


def _set_affinity(cores: set[int]) -> bool:
    try:
        os.sched_setaffinity(0, cores)
    except (OSError, AttributeError) as error:
        log.debug("could not set this thread's cores to %s: %s", sorted(cores), error)
        return False
    return True
