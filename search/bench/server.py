"""A real `python -m search serve` in its own process, for `make bench`.

The server runs as users run it: its own interpreter (so clients in the bench
process never share its GIL), its own port, the settings of the environment
(plus any `environment` given, e.g. SEARCH_PROCESSES=2). `launch_seconds` is
the wall time from starting the process to the first 200 from `/api/health`;
`rss_mb()` reads the resident memory of the server's processes (`serve` and
its sibling processes) from /proc, `pss_mb()` the same with shared pages
counted once; their Apertium processes are separate programs, reported apart
by `children_rss_mb`; `cpu_seconds()` reads both CPU times, so a load test can
say how many cores it kept busy.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from search.background_server import free_port

__all__ = [
    "MachineSeconds",
    "RunningServer",
    "StealClock",
    "launch_seconds",
    "machine_seconds",
    "running_server",
]

_REPO_ROOT = Path(__file__).resolve().parents[2]
_POLL_S = 0.005
_IDLE_CHECK_S = 0.5  # idle: less than _IDLE_CPU_S of CPU over this long
_IDLE_CPU_S = 0.05
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class RunningServer:
    process: subprocess.Popen[bytes]
    host: str
    port: int
    launch_seconds: float  # process start -> first 200 from /api/health

    def rss_mb(self) -> float:
        """The server's processes: `serve` and its siblings (SEARCH_PROCESSES > 1)."""
        return sum(_rss_mb(pid) for pid in self.server_pids())

    def pss_mb(self) -> float:
        """The server's processes' proportional set size: a page they share (the
        interpreter's libraries, the memory-mapped index and model) counted once,
        where RSS counts it in every process."""
        return sum(_pss_mb(pid) for pid in self.server_pids())

    def children_rss_mb(self) -> float:
        """The Apertium pipelines the server processes started."""
        return sum(_rss_mb(pid) for pid in self._pipelines())

    def children_pss_mb(self) -> float:
        """The same pipelines' proportional set size: their ~40 processes share
        Apertium's libraries (RSS 718 MB against PSS 395 MB on the seeds index,
        two translators); each `lt-proc` reads its dictionary into private memory."""
        return sum(_pss_mb(pid) for pid in self._pipelines())

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU seconds (user + system) used so far by the server's processes and by
        their Apertium pipelines, each summed over all threads."""
        servers = sum(_cpu_seconds(pid) for pid in self.server_pids())
        return servers, sum(_cpu_seconds(pid) for pid in self._pipelines())

    def wait_until_idle(self, *, timeout_s: float = 60.0) -> None:
        """Wait until the server's processes use no CPU for a moment: a sibling
        (SEARCH_PROCESSES > 1) loads after the first process answers, and accepts
        connections only once it has loaded."""
        deadline = time.perf_counter() + timeout_s
        busy = self.cpu_seconds()[0]
        while time.perf_counter() < deadline:
            time.sleep(_IDLE_CHECK_S)
            now = self.cpu_seconds()[0]
            if now - busy < _IDLE_CPU_S:
                return
            busy = now
        raise RuntimeError(f"the server was still busy {timeout_s:.0f} s after it answered")

    def server_pids(self) -> list[int]:
        """`serve` first, then its sibling processes (SEARCH_PROCESSES > 1)."""
        siblings = [pid for pid in _descendants(self.process.pid) if _is_server(pid)]
        return [self.process.pid, *siblings]

    def _pipelines(self) -> list[int]:
        return [pid for pid in _descendants(self.process.pid) if not _is_server(pid)]


def _is_server(pid: int) -> bool:
    """A `python -m search serve` process (a sibling), not an Apertium stage."""
    try:
        return b"search\0serve\0" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _rss_mb(pid: int) -> float:
    return _proc_kb(pid, "status", "VmRSS:") / 1024


def _pss_mb(pid: int) -> float:
    return _proc_kb(pid, "smaps_rollup", "Pss:") / 1024


def _proc_kb(pid: int, file: str, field: str) -> int:
    """The kB a /proc/<pid>/<file> line starting with `field` gives; 0 once gone."""
    try:
        text = Path(f"/proc/{pid}/{file}").read_text(encoding="utf-8")
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (command name)"
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND  # utime, stime


@dataclass(frozen=True)
class MachineSeconds:
    """CPU seconds summed over the machine's cores since boot, from /proc/stat.

    `busy`: what the machine ran (user, nice, system, irq, softirq), every process,
    other users' included. `stolen`: time a core of this virtual machine had work
    but the hypervisor ran another guest instead ("steal"). On this kind of 2-core
    VM a busy host steals 0.4 cores with one client searching and 0.8 with four: the
    cores the benchmark really had. Counting steal as busy, as `make bench` did
    until the nineteenth session, showed the machine busier than every process on
    it explained."""

    busy: float
    stolen: float

    def __sub__(self, earlier: MachineSeconds) -> MachineSeconds:
        return MachineSeconds(self.busy - earlier.busy, self.stolen - earlier.stolen)


def machine_seconds(stat: str | None = None) -> MachineSeconds:
    """The machine's `MachineSeconds` now (or in `stat`, a /proc/stat text): the
    difference over a run says how much of it the benchmark had."""
    if stat is None:
        stat = Path("/proc/stat").read_text(encoding="utf-8")
    fields = stat.splitlines()[0].split()[1:]  # the "cpu" line: every core summed
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    busy = user + nice + system + irq + softirq
    return MachineSeconds(busy / _TICKS_PER_SECOND, steal / _TICKS_PER_SECOND)


class StealClock:
    """The cores the hypervisor stole, on average, since this clock was made: printed
    beside a stage's figures, it says which phase of the host they come from."""

    def __init__(self) -> None:
        self._started = time.perf_counter()
        self._machine = machine_seconds()

    def cores(self) -> float:
        elapsed = time.perf_counter() - self._started
        return (machine_seconds() - self._machine).stolen / elapsed if elapsed > 0 else 0.0


def _descendants(pid: int) -> list[int]:
    """Every process below `pid`. The kernel lists a child under the thread that
    started it, and ours start from several (loading, warming translators,
    replacing siblings): every thread's list is read."""
    found: list[int] = []
    pending = [pid]
    while pending:
        parent = pending.pop()
        children = []
        for listing in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children += [int(child) for child in listing.read_text().split()]
            except OSError:  # the thread or the process has just ended
                continue
        found.extend(children)
        pending.extend(children)
    return found


def _healthy(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", "/api/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def running_server(
    index_dir: Path,
    *,
    checkout: Path = _REPO_ROOT,
    timeout_s: float = 60.0,
    environment: dict[str, str] | None = None,
) -> Iterator[RunningServer]:
    """`python -m search serve` of `checkout` (default: this one) on a free loopback
    port, stopped afterwards; `environment`: variables set for it over this one's."""
    host, port = "127.0.0.1", free_port()
    environment = {**os.environ, **(environment or {}), "PYTHONPATH": str(checkout)}
    command = [sys.executable, "-m", "search", "serve", "--index", str(index_dir.resolve())]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "--host", host, "--port", str(port)],
        env=environment,
        cwd=checkout,  # `-m` puts the working directory first on sys.path, before PYTHONPATH
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _healthy(host, port):
            if process.poll() is not None or time.perf_counter() - started > timeout_s:
                raise RuntimeError(f"`{' '.join(command)}` did not become healthy")
            time.sleep(_POLL_S)
        yield RunningServer(process, host, port, time.perf_counter() - started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def launch_seconds(index_dir: Path, *, checkout: Path = _REPO_ROOT) -> tuple[float, float]:
    """One launch of `serve`, to its first healthy answer, then stopped: wall seconds,
    and the CPU seconds the server process had used by then."""
    with running_server(index_dir, checkout=checkout) as server:
        return server.launch_seconds, server.cpu_seconds()[0]
