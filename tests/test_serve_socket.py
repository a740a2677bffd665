"""The socket `serve` listens on gives connections with Nagle's algorithm off: with
it on, every response to a keep-alive client waited for the client's delayed ACK."""

from __future__ import annotations

import asyncio
import socket

import pytest

from search.background_server import free_port
from search.cli import _bind

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
