"""How `serve` starts: the socket it listens on gives connections with Nagle's
algorithm off (with it on, every response to a keep-alive client waited for the
client's delayed ACK), and the app is built before its engine has loaded."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from search.app import create_app
from search.background_server import free_port
from search.cli import _bind
from search.engine import SearchEngine
from tests.conftest import REPO_ROOT
from tests.corpus import write_corpus
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast


def test_connections_accepted_on_the_serve_socket_have_tcp_nodelay() -> None:
    listener = _bind("127.0.0.1", free_port())
    port = listener.getsockname()[1]

    async def accept_one() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Capture(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Capture, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            nodelay = await asyncio.wait_for(accepted, timeout=10)
            writer.close()
            await writer.wait_closed()
        return nodelay

    assert asyncio.run(accept_one()) != 0


def test_the_app_is_built_first_and_given_its_engine_before_serving(tmp_path: Path) -> None:
    app = create_app(None, reload_seconds=0.05)
    encoder = FakeEncoder()
    build_fake_index([write_corpus(tmp_path / "corpus")], tmp_path / "index", encoder=encoder)
    app.state.engine = SearchEngine(tmp_path / "index", encoder=encoder)
    with TestClient(app) as client:  # the lifespan starts the reload watcher on it
        assert client.get("/api/health").status_code == 200
        assert client.get("/api/search", params={"q": "hurricane"}).json()["results"]


_WRITE_MODULES = ("search.write_api", "search.writer", "indexer.articles", "indexer.update")


@pytest.mark.parametrize("writes", ["off", "on"])
def test_the_write_api_loads_only_with_writes_on(writes: str) -> None:
    # ~0.08 s of imports on start-up's critical path (article readers, YAML, updates)
    script = f"""
import sys
from search.app import create_app
from search.cli import _write_access
from search.settings import ServiceSettings

settings = ServiceSettings.from_env({{"SEARCH_WRITES": {writes!r}}})
create_app(None, reload_seconds=0, writes=_write_access(settings))
print(sorted(m for m in {_WRITE_MODULES!r} if m in sys.modules))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    loaded = result.stdout.strip()
    assert loaded == ("[]" if writes == "off" else str(sorted(_WRITE_MODULES)))
