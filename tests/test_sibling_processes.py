"""`serve --processes N`: siblings share the listening socket, answer searches
themselves, and never outlive the first process."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from search.bench.server import RunningServer, running_server
from search.sibling_processes import ConnectionCounts, restart_delay
from tests.conftest import REPO_ROOT
from tests.corpus import write_corpus


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, build) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("siblings")
    build([write_corpus(root / "corpus")], root / "index", translation="off")
    return root / "index"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _search(host: str, port: int, query: str) -> dict[str, object]:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", "/api/search?" + urlencode({"q": query, "mode": "hybrid"}))
        response = connection.getresponse()
        assert response.status == 200
        body: dict[str, object] = json.loads(response.read())
        return body
    finally:
        connection.close()


def _top_article_with_the_first_stopped(server: RunningServer) -> object:
    """The top result's article for a search answered while the first process is
    stopped: only a sibling can accept and answer it."""
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        body = _search(server.host, server.port, "hurricane landfall")
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    results = body["results"]
    assert isinstance(results, list) and results
    return results[0]["article_id"]


def _gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def test_a_sibling_serves_searches_on_the_same_port(index_dir: Path) -> None:
    env = {"SEARCH_PROCESSES": "2", "SEARCH_QUERY_TRANSLATION": "off"}
    with running_server(index_dir, checkout=REPO_ROOT, environment=env) as server:
        server.wait_until_idle()
        (sibling,) = server.server_pids()[1:]
        assert _search(server.host, server.port, "hurricane landfall")["results"]
        assert _top_article_with_the_first_stopped(server) == "en/hurricane.txt"
        server.process.terminate()
        server.process.wait(timeout=30)
        assert _gone_within([sibling], 15), "a stopped serve left its sibling running"


def test_a_stopped_serve_has_stopped_its_siblings_before_it_exits(index_dir: Path) -> None:
    env = {"SEARCH_PROCESSES": "2", "SEARCH_QUERY_TRANSLATION": "off"}
    with running_server(index_dir, checkout=REPO_ROOT, environment=env) as server:
        server.wait_until_idle()
        (sibling,) = server.server_pids()[1:]
        server.process.terminate()
        server.process.wait(timeout=30)
        # not a second later, by the sibling's own check of its parent
        assert not _alive(sibling), "serve exited before stopping its sibling"


def test_a_killed_first_process_takes_its_siblings_with_it(index_dir: Path) -> None:
    env = {"SEARCH_PROCESSES": "3", "SEARCH_QUERY_TRANSLATION": "off"}
    with running_server(index_dir, checkout=REPO_ROOT, environment=env) as server:
        server.wait_until_idle()
        siblings = server.server_pids()[1:]
        assert len(siblings) == 2
        server.process.kill()  # no chance to stop them itself
        server.process.wait(timeout=30)
        assert _gone_within(siblings, 15), "siblings outlived a killed serve"


def test_siblings_stop_when_the_first_process_is_killed_while_they_start(
    index_dir: Path,
) -> None:
    """Killed at once, while its siblings still import (a second, several on a busy
    machine): they are left to another parent before they can watch this one,
    and stop all the same (they watch the pid it gave them)."""
    env = {"SEARCH_PROCESSES": "3", "SEARCH_QUERY_TRANSLATION": "off"}
    with running_server(index_dir, checkout=REPO_ROOT, environment=env) as server:
        siblings: list[int] = []
        deadline = time.monotonic() + 30
        while len(siblings) < 2 and time.monotonic() < deadline:
            siblings = server.server_pids()[1:]
            time.sleep(0.02)
        assert len(siblings) == 2
        server.process.kill()
        server.process.wait(timeout=30)
        assert _gone_within(siblings, 20), "siblings outlived a serve killed as they started"


def test_the_parent_watch_stops_a_process_whose_parent_is_already_gone(
    tmp_path: Path,
) -> None:
    """`exit_with_parent` with the pid of a parent that died before it was called."""
    stopped = tmp_path / "stopped"
    child = (
        "import os, pathlib, signal, sys, time\n"
        "def stop(number, frame):\n"
        f"    pathlib.Path({str(stopped)!r}).write_text('by SIGTERM')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "parent = int(sys.argv[1])\n"
        "while os.getppid() == parent:  # until the parent is gone, as it was here\n"
        "    time.sleep(0.05)\n"
        "from search.sibling_processes import exit_with_parent\n"
        "exit_with_parent(parent)\n"
        "time.sleep(60)\n"
    )
    parent = (
        "import os, subprocess, sys\n"
        f"child = subprocess.Popen([sys.executable, '-c', {child!r}, str(os.getpid())])\n"
        "print(child.pid, flush=True)\n"  # and exit at once, leaving it
    )
    started = subprocess.run(
        [sys.executable, "-c", parent],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    orphan = int(started.stdout.strip())
    assert _gone_within([orphan], 20), "a process outlived its parent's watch"
    assert stopped.read_text() == "by SIGTERM"  # the watch's, not an error's


def test_a_dead_sibling_is_replaced_and_serves(index_dir: Path) -> None:
    env = {"SEARCH_PROCESSES": "2", "SEARCH_QUERY_TRANSLATION": "off"}
    with running_server(index_dir, checkout=REPO_ROOT, environment=env) as server:
        server.wait_until_idle()
        (sibling,) = server.server_pids()[1:]
        os.kill(sibling, signal.SIGKILL)
        deadline = time.monotonic() + 60
        replacement: list[int] = []
        while time.monotonic() < deadline and not replacement:
            replacement = [pid for pid in server.server_pids()[1:] if pid != sibling]
            time.sleep(0.2)
        assert replacement, "the killed sibling was not replaced"
        server.wait_until_idle()  # the replacement has loaded its engine
        assert _top_article_with_the_first_stopped(server) == "en/hurricane.txt"


def test_a_bad_process_count_is_refused(index_dir: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "search", "serve", "--index", str(index_dir), "--processes", "0"],
        cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--processes 0 is not in 1..64" in refused.stderr


def test_connection_counts_say_when_a_process_has_two_more_than_the_least_busy() -> None:
    first = ConnectionCounts.create(3)
    second = ConnectionCounts.attach(first.descriptor, 1)
    third = ConnectionCounts.attach(first.descriptor, 2)
    assert not first.should_close(1)  # 1, 0, 0
    assert first.should_close(2)  # 2, 0, 0
    assert not third.should_close(1)  # 2, 0, 1
    assert not second.should_close(2)  # 2, 2, 1
    assert second.should_close(3)  # 2, 3, 1
    assert not third.should_close(2)  # 2, 3, 2
    with pytest.raises(ValueError, match="slot 3"):
        ConnectionCounts.attach(first.descriptor, 3)


def test_an_absent_process_is_never_the_least_busy() -> None:
    first = ConnectionCounts.create(2)
    assert first.should_close(2)  # 2, 0: the sibling is the least busy
    first.mark_absent(1)  # it died: steer nothing towards it
    assert not first.should_close(5)


def test_a_sibling_dying_at_start_waits_longer_each_time() -> None:
    waits, last = [], 0.0
    for _ in range(8):
        last = restart_delay(2.0, last)
        waits.append(last)
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert restart_delay(3600.0, 60.0) == 0.0  # it had served a while: at once
    assert restart_delay(2.0, 0.0) == 1.0  # and the doubling starts again


def test_a_busier_process_closes_connections_until_both_have_some(index_dir: Path) -> None:
    env = {"SEARCH_PROCESSES": "2", "SEARCH_QUERY_TRANSLATION": "off"}
    with running_server(index_dir, checkout=REPO_ROOT, environment=env) as server:
        server.wait_until_idle()
        first = server.process.pid
        (sibling,) = server.server_pids()[1:]
        connections = [http.client.HTTPConnection(server.host, server.port) for _ in range(4)]
        try:
            os.kill(sibling, signal.SIGSTOP)  # every connection lands on the first process
            try:
                for connection in connections:
                    connection.connect()
                # connect() returns at the handshake; the accept comes a moment later
                assert _held_within(connections, {first}, (first, sibling), 15)
            finally:
                os.kill(sibling, signal.SIGCONT)
            closes = 0
            for _ in range(20):
                for connection in connections:  # reconnects by itself after a close
                    connection.request("GET", "/api/search?q=hurricane")
                    response = connection.getresponse()
                    response.read()
                    assert response.status == 200
                    closes += response.getheader("connection") == "close"
                holders = {_holder(connection, first, sibling) for connection in connections}
                if holders == {first, sibling}:
                    break
        finally:
            for connection in connections:
                connection.close()
    assert holders == {first, sibling}, "one process kept every connection"
    assert closes < 40


def _held_within(
    connections: list[http.client.HTTPConnection],
    wanted: set[int],
    pids: tuple[int, ...],
    seconds: float,
) -> bool:
    """Whether the server ends of `connections` are all held by `wanted` within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if {_holder(connection, *pids) for connection in connections} == wanted:
            return True
        time.sleep(0.05)
    return False


def _holder(connection: http.client.HTTPConnection, *pids: int) -> int | None:
    """Which of `pids` holds the server end of `connection` (None: reconnecting)."""
    if connection.sock is None:
        return None
    client_port = connection.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == client_port:  # the server's end: remote = client
            inode = fields[9]
    for pid in pids:
        for entry in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(entry) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None
