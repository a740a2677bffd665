"""More server processes on `serve`'s one listening socket, each with its own GIL.

One process serves concurrent searches on little more than one core: the Python
parts of a search (the HTTP layer, parsing, the lexical leg, fusion, results and
snippets) hold the GIL, and ONNX Runtime and Apertium, which do not, wait for it
each time they hand back. On the seeds index (`make bench`, 2 cores), one process
with 4 or 16 clients kept 1.5 of 2 cores busy; two processes kept 1.7-1.9 busy.

`serve` binds the socket, loads its engine, starts `processes - 1` siblings
(`python -m search serve --listen-fd N`, the socket inherited) and serves. Each
sibling loads its own engine (the index files are memory-mapped, so their pages
are shared; the model session, caches and Apertium pipelines are not: about
130 MB of PSS and one translator pool more per process) and accepts connections
from the same socket.

Which process takes a connection is a race, and a kept-alive connection stays
where it landed. asyncio accepts every queued connection at once, so a burst of
4 connects went to one process in 14 of 16 trials; accepting one per wake-up
(`serve` passes backlog 1 to uvicorn, then restores the socket's queue), 3 and 1
in 14 of 16. So the processes also share their open connection counts
(`ConnectionCounts`), and one with two more than the least busy answers with
`Connection: close` (`search.app`): its client reconnects, most often to the
idle process. 4 clients sending searches one after another then held 2 and 2 in
9 of 10 trials after 6 rounds (the tenth was reconnecting), and 4 clients at
once got 75-87 searches/s from two processes against 56-64 from one.

A write (`--allow-writes`) is searchable at once in the process that took it;
the others load the new generation at their next reload check
(SEARCH_RELOAD_SECONDS). Two writes at once in two processes: the second finds
the index's writer lock taken and is refused as busy, like a write during a
build, and can be sent again. A sibling stops with the first process: stopped
by it on a clean stop, or on its own when it finds its parent gone (checked
every second), so a killed `serve` leaves no server behind. A sibling that dies
while the first process serves (killed, out of memory) is replaced within a
second or two (`Siblings`); one that keeps dying soon after it starts is restarted
less and less often, so a sibling that cannot start does not spin.
"""

from __future__ import annotations

import logging
import mmap
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

__all__ = [
    "COUNTS_FD_FLAG",
    "LISTEN_FD_FLAG",
    "PARENT_FLAG",
    "SLOT_FLAG",
    "ConnectionCounts",
    "Siblings",
    "exit_with_parent",
    "restart_delay",
]

log = logging.getLogger(__name__)

LISTEN_FD_FLAG = "--listen-fd"
COUNTS_FD_FLAG = "--counts-fd"
SLOT_FLAG = "--slot"
PARENT_FLAG = "--parent-pid"
# A process with this many more open connections than the least busy one closes
# the connection it has just answered: its client reconnects, to whichever
# process accepts first (the least busy, most often).
_IMBALANCE = 2
_PARENT_CHECK_S = 1.0
_STOP_WAIT_S = 10.0
_SUPERVISE_S = 0.5  # how often the first process looks for dead siblings
# A sibling that lived less than this died starting up (a broken index, no
# memory): wait before the next try, twice as long each time, up to the maximum.
_SHORT_LIFE_S = 30.0
_FIRST_BACKOFF_S = 1.0
_MAX_BACKOFF_S = 60.0
_ABSENT = 1 << 62  # a dead process's count: never the least busy


class ConnectionCounts:
    """Each server process's open connections, in memory the processes share.

    One int64 slot per process in a memfd that every sibling inherits: a process
    writes its own slot each time it answers and reads the others'. Counts may be
    a moment stale (a process writes when it answers, not when a client leaves):
    they steer connections, they decide nothing else.
    """

    def __init__(self, descriptor: int, *, processes: int, slot: int) -> None:
        if not 0 <= slot < processes:
            raise ValueError(f"slot {slot} is not one of {processes} processes")
        self.descriptor = descriptor
        self._slot = slot
        self._counts = memoryview(mmap.mmap(descriptor, processes * 8)).cast("q")

    @classmethod
    def create(cls, processes: int) -> ConnectionCounts:
        """The first process's: a new memfd, slot 0."""
        descriptor = os.memfd_create("search-connections")
        os.ftruncate(descriptor, processes * 8)
        return cls(descriptor, processes=processes, slot=0)

    @classmethod
    def attach(cls, descriptor: int, slot: int) -> ConnectionCounts:
        """A sibling's: the inherited memfd, sized for every process."""
        return cls(descriptor, processes=os.fstat(descriptor).st_size // 8, slot=slot)

    def mark_absent(self, slot: int) -> None:
        """`slot`'s process is gone: steer no connections towards it until its
        replacement answers a request and writes its own count."""
        self._counts[slot] = _ABSENT

    def should_close(self, open_connections: int) -> bool:
        """Record this process's open connections; True when it has `_IMBALANCE`
        more than the least busy process."""
        self._counts[self._slot] = open_connections
        return open_connections - min(self._counts) >= _IMBALANCE


class Siblings:
    """The first process's siblings: `python -m search serve <serve_args>` serving
    `listener` and sharing `counts` (slots 1..count), each replaced if it dies."""

    def __init__(
        self,
        count: int,
        listener: socket.socket,
        counts: ConnectionCounts,
        serve_args: Sequence[str],
    ) -> None:
        self._fds = (listener.fileno(), counts.descriptor)
        self._command = [sys.executable, "-m", "search", "serve", *serve_args]
        self._command += [LISTEN_FD_FLAG, str(self._fds[0]), COUNTS_FD_FLAG, str(self._fds[1])]
        self._command += [PARENT_FLAG, str(os.getpid())]
        self._counts = counts
        self._processes: dict[int, subprocess.Popen[bytes] | None] = dict.fromkeys(
            range(1, count + 1)
        )
        self._started_at: dict[int, float] = {}
        self._next_try: dict[int, float] = {}
        self._delay: dict[int, float] = {}  # the last wait before a restart, per slot
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    def start(self) -> None:
        """Start every sibling now, and replace each one that dies from now on."""
        with self._lock:
            for slot in self._processes:
                self._start(slot)
            started = [p.pid for p in self._processes.values() if p is not None]
        if started:
            log.info("started %d sibling server processes: %s", len(started), started)
        self._supervisor = threading.Thread(
            target=self._supervise, daemon=True, name="sibling-supervisor"
        )
        self._supervisor.start()

    def stop(self) -> None:
        """Terminate the siblings and wait for them (each finishes its requests
        first); none is replaced from now on."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join()
        with self._lock:
            running = [p for p in self._processes.values() if p is not None]
        for sibling in running:
            if sibling.poll() is None:
                sibling.terminate()
        for sibling in running:
            try:
                sibling.wait(timeout=_STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                sibling.kill()
                sibling.wait()

    def _supervise(self) -> None:
        while not self._stopping.wait(_SUPERVISE_S):
            with self._lock:
                for slot, process in self._processes.items():
                    if process is not None and process.poll() is not None:
                        self._lost(slot, process)
                    elif process is None and time.monotonic() >= self._next_try.get(slot, 0):
                        self._start(slot)
                        if self._processes[slot] is not None:
                            log.info("sibling server process %d started again", slot)

    def _lost(self, slot: int, process: subprocess.Popen[bytes]) -> None:
        self._counts.mark_absent(slot)
        self._processes[slot] = None
        lived = time.monotonic() - self._started_at[slot]
        wait = self._delay[slot] = restart_delay(lived, self._delay.get(slot, 0.0))
        self._next_try[slot] = time.monotonic() + wait
        log.warning(
            "sibling server process %d (pid %d) exited with %s after %.0f s; starting "
            "another in %.0f s",
            slot, process.pid, process.returncode, lived, wait,
        )  # fmt: skip

    def _start(self, slot: int) -> None:
        try:
            process = subprocess.Popen([*self._command, SLOT_FLAG, str(slot)], pass_fds=self._fds)
        except OSError as error:  # the first process still serves: fewer cores, not none
            log.error("could not start sibling server process %d: %s", slot, error)
            self._next_try[slot] = time.monotonic() + _MAX_BACKOFF_S
            return
        self._processes[slot] = process
        self._started_at[slot] = time.monotonic()


def restart_delay(lived_s: float, last_delay_s: float) -> float:
    """Seconds to wait before starting a sibling that died after `lived_s` seconds
    again: none after a long life; after a short one (it died starting up), twice
    the last wait, from `_FIRST_BACKOFF_S` up to `_MAX_BACKOFF_S`."""
    if lived_s >= _SHORT_LIFE_S:
        return 0.0
    return min(max(last_delay_s * 2, _FIRST_BACKOFF_S), _MAX_BACKOFF_S)


def exit_with_parent(parent: int) -> None:
    """Send this process SIGTERM (a clean stop) once `parent`, the process that
    started it, is gone: a sibling's parent killed with SIGKILL cannot stop it.

    `parent` is the pid the parent gave on the command line, not `os.getppid()`
    read here: a parent killed while this process was still starting (a second of
    imports, several on a busy machine) has left it to another parent by then,
    and a watch of that one never ended. Once the parent is gone this process's
    parent is another, so a pid reused meanwhile does not fool the watch."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_S)
        log.info("the first server process is gone; stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
