"""`kept_off_core`: the calling thread leaves one core for a block, and comes back."""

from __future__ import annotations

import os
import threading

import pytest

from search.thread_cores import kept_off_core

pytestmark = pytest.mark.fast


def test_the_block_runs_off_the_core_and_the_thread_gets_every_core_back() -> None:
    allowed = os.sched_getaffinity(0)
    core = max(allowed)
    with kept_off_core(core):
        inside = os.sched_getaffinity(0)
    assert os.sched_getaffinity(0) == allowed
    # on a one-core machine the only core is kept: there is nowhere else to run
    assert inside == (allowed - {core} if len(allowed) > 1 else allowed)


def test_none_changes_nothing_and_an_error_still_restores() -> None:
    allowed = os.sched_getaffinity(0)
    with kept_off_core(None):
        assert os.sched_getaffinity(0) == allowed
    with pytest.raises(RuntimeError), kept_off_core(min(allowed)):
        raise RuntimeError("the encoder failed")
    assert os.sched_getaffinity(0) == allowed


def test_a_thread_held_to_one_core_stays_there() -> None:
    seen: list[set[int]] = []

    def held() -> None:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        with kept_off_core(core):
            seen.append(os.sched_getaffinity(0))
        seen.append(os.sched_getaffinity(0))

    thread = threading.Thread(target=held)
    thread.start()
    thread.join()
    core = min(os.sched_getaffinity(0))
    assert seen == [{core}, {core}]


def test_only_the_calling_thread_moves() -> None:
    allowed = os.sched_getaffinity(0)
    inside = threading.Event()
    done = threading.Event()
    other: list[set[int]] = []

    def bystander() -> None:
        inside.wait()
        other.append(os.sched_getaffinity(0))
        done.set()

    thread = threading.Thread(target=bystander)
    thread.start()
    with kept_off_core(max(allowed)):
        inside.set()
        done.wait()
    thread.join()
    assert other == [allowed]
