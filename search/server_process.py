"""A real `python -m search serve` in a child process: its start-up time and memory.

`ServerProcess.start(index_dir)` launches the server as `make run` does (the same
module, settings from the environment) on a free loopback port, and returns once
`/api/health` answers 200. `startup_seconds` runs from the launch to that answer:
interpreter, imports, index and model loading, warm-up. `memory()` reads the
child's own /proc/PID/status, in MiB: VmRSS (resident now), split into the
process's own memory (RssAnon) and pages of memory-mapped files (RssFile: the
index and libraries, shared with the OS cache), and VmHWM (its peak). The
server's output goes to a log file. `stop()` signals that one process (SIGTERM,
then SIGKILL after 10 s).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from search.background_server import free_port

__all__ = ["Memory", "ServerProcess", "read_memory"]

_POLL_SECONDS = 0.05
_FIELDS = ("VmRSS", "RssAnon", "RssFile", "VmHWM")


@dataclass(frozen=True, slots=True)
class Memory:
    rss_mb: float  # VmRSS: resident now
    anon_mb: float  # RssAnon: the process's own memory (heap, model weights)
    file_mb: float  # RssFile: pages of mapped files (index, libraries), shared with the cache
    peak_mb: float  # VmHWM: the most it has been resident


def read_memory(pid: int | str = "self") -> Memory:
    """A process's memory from /proc/PID/status, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    mib = {name: int(fields[name].split()[0]) / 1024 for name in _FIELDS}
    return Memory(mib["VmRSS"], mib["RssAnon"], mib["RssFile"], mib["VmHWM"])


class ServerProcess:
    def __init__(
        self,
        process: subprocess.Popen[bytes],
        base_url: str,
        startup_seconds: float,
        *,
        launched: float = 0.0,
    ) -> None:
        self.process = process
        self.base_url = base_url
        self.startup_seconds = startup_seconds
        self._launched = launched  # perf_counter at launch

    @classmethod
    def start(cls, index_dir: Path, *, log_path: Path, timeout_s: float = 600) -> ServerProcess:
        port = free_port()
        command = [sys.executable, "-m", "search", "serve", "--index", str(index_dir)]
        command += ["--host", "127.0.0.1", "--port", str(port)]
        base_url = f"http://127.0.0.1:{port}"
        with log_path.open("wb") as log:
            started = time.perf_counter()
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        server = cls(process, base_url, 0.0, launched=started)
        try:
            server.startup_seconds = server._wait_for_health(started, timeout_s, log_path)
        except BaseException:
            server.stop()
            raise
        return server

    def memory(self) -> Memory:
        return read_memory(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def wait_until_warm(self, timeout_s: float = 600) -> float:
        """Seconds from launch until /api/health lists nothing `warming` (background
        work start-up left, which would otherwise share the cores with timed queries)."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if not httpx.get(f"{self.base_url}/api/health", timeout=10.0).json()["warming"]:
                return time.perf_counter() - self._launched
            time.sleep(_POLL_SECONDS)
        raise RuntimeError(f"the server was still warming up after {timeout_s} s")

    def _wait_for_health(self, started: float, timeout_s: float, log_path: Path) -> float:
        """Seconds from `started` to the first 200 from /api/health. The server binds
        its socket before loading, so a request made early waits in the backlog."""
        deadline = started + timeout_s
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.process.returncode}; see {log_path}"
                )
            try:
                response = httpx.get(f"{self.base_url}/api/health", timeout=2.0)
                if response.status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(_POLL_SECONDS)
        raise RuntimeError(f"the server did not answer /api/health in {timeout_s} s; {log_path}")
