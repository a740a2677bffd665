"""uvicorn's httptools protocol, with the service's bounds on a request's head.

httptools (llhttp, in C) parses a request in a fraction of the time h11 (pure
Python) takes: measured side by side on the seeds index, a hybrid search over HTTP
p50 0.65-1.35 ms faster, `/api/health` 0.4 ms faster (2026-11-22, three servers
interleaved; README, "HTTP parsing, start-up, supervised siblings"). Two things
h11 did need doing here instead:

- h11 bounds the head it buffers; uvicorn's httptools protocol appends every piece
  of the URL to one bytes object and httptools a header's value, so one request
  could make the server buffer, and copy over and over, a head of any size. Past
  `MAX_HEAD_BYTES` the request is answered 431 and the connection closed.
- httptools refuses to split a URL over 64 KiB, which uvicorn answers with a
  plain-text 400. A URL over `MAX_URL_BYTES` is answered here with the service's
  JSON 414 before uvicorn parses it (`search.app` has the same check for other
  servers).
"""

from __future__ import annotations

import logging

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from search.http_errors import error_response

__all__ = ["MAX_HEAD_BYTES", "MAX_URL_BYTES", "BoundedHeadProtocol", "url_too_long_message"]

log = logging.getLogger(__name__)

# Longest path + query string the service reads: q is at most 1,000 characters,
# which percent-encoded is at most ~9 kB.
MAX_URL_BYTES = 16 * 1024
# Request line + headers, bytes received before the parser calls the head complete.
MAX_HEAD_BYTES = 1024 * 1024


def url_too_long_message(length: int) -> str:
    return (
        f"The URL is {length} bytes; the limit is {MAX_URL_BYTES}. q may have at most 1000 "
        "characters."
    )


class BoundedHeadProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` that answers a head over `MAX_HEAD_BYTES` with 431 and a URL
    over `MAX_URL_BYTES` with 414, JSON, and closes the connection."""

    # Bytes received since the current head began: from the end of the previous
    # request (or the connection's start) until the parser calls the head complete.
    _head_bytes = 0
    _reading_head = True
    # Answered and closing: nothing more is parsed, and the callbacks that would act
    # on the refused request (it has no cycle) do nothing.
    _refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading_head:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                message = f"The request's line and headers are over {MAX_HEAD_BYTES} bytes."
                self._refuse(431, "head_too_large", message)
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._reading_head = False
        self._head_bytes = 0
        if len(self.url) > MAX_URL_BYTES:
            self._refuse(414, "uri_too_long", url_too_long_message(len(self.url)))
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._reading_head = True  # what comes next is the next request's head
        super().on_message_complete()

    def _refuse(self, status: int, code: str, message: str) -> None:
        log.warning("refused a request from %s: %s", self.client, message)
        response = error_response(status, code, message)
        head = [STATUS_LINE[status]]
        for name, value in [*self.server_state.default_headers, *response.raw_headers]:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + bytes(response.body))
        self.transport.close()
        self._refused = True
