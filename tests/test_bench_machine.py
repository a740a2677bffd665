"""The bench's machine-wide CPU counts: what the VM ran, and what the hypervisor took."""

from __future__ import annotations

import os
import time

import pytest

from search.bench.server import MachineSeconds, StealClock, machine_seconds

pytestmark = pytest.mark.fast

_TICKS = os.sysconf("SC_CLK_TCK")
# a real line from this project's 2-core VM: user nice system idle iowait irq softirq
# steal guest guest_nice
_STAT = "cpu  2348490 21066 347020 2281512 36486 0 12428 98198 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"


def test_steal_is_counted_apart_from_busy() -> None:
    seconds = machine_seconds(_STAT)
    assert seconds.busy == pytest.approx((2348490 + 21066 + 347020 + 0 + 12428) / _TICKS)
    assert seconds.stolen == pytest.approx(98198 / _TICKS)


def test_idle_and_iowait_count_as_neither() -> None:
    idle = "cpu  0 0 0 999999 999999 0 0 0 0 0\n"
    assert machine_seconds(idle) == MachineSeconds(0.0, 0.0)


def test_the_difference_over_a_run() -> None:
    later = MachineSeconds(busy=12.5, stolen=3.0) - MachineSeconds(busy=10.0, stolen=2.5)
    assert later == MachineSeconds(busy=2.5, stolen=0.5)


def test_this_machine_counts_forward() -> None:
    """The kernel counts in ticks (10 ms): spin until one is counted, 5 s at most."""
    first = machine_seconds()
    deadline = time.monotonic() + 5
    while machine_seconds().busy == first.busy and time.monotonic() < deadline:
        sum(range(100_000))
    second = machine_seconds()
    assert second.busy > first.busy
    assert second.stolen >= first.stolen >= 0


def test_a_steal_clock_gives_cores_between_zero_and_the_machines() -> None:
    clock = StealClock()
    time.sleep(0.05)
    assert 0.0 <= clock.cores() <= len(os.sched_getaffinity(0))
