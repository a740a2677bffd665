"""`python -m search serve|query`: parse arguments, call the core, map errors.

Exit codes: 0 ok, 1 failure (no index, bad query), 2 usage error (a bad setting,
or writes on an address other machines reach without a token).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import socket
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from indexer.errors import IndexerError, SettingsError
from search.errors import SearchError
from search.models import MODES, SearchRequest, SearchResponse, SearchResult
from search.rendering import search_body
from search.settings import ServiceSettings
from search.sibling_processes import (
    COUNTS_FD_FLAG,
    LISTEN_FD_FLAG,
    PARENT_FLAG,
    SLOT_FLAG,
    ConnectionCounts,
    Siblings,
    exit_with_parent,
)
from search.wiring import build_engine

if TYPE_CHECKING:  # the web framework loads only for `serve`
    from search.engine import SearchEngine
    from search.write_api import WriteAccess

__all__ = ["main"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
_BACKLOG = 2048  # connections the kernel queues for the listening socket


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        settings = ServiceSettings.from_env()
        if args.command == "serve":
            settings = _serve_settings(args, settings)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    index_dir = args.index or settings.index_dir
    try:
        if args.command == "serve":
            return _serve(args, settings, index_dir)
        return _query(args, settings, index_dir)
    except (IndexerError, SearchError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except BrokenPipeError:  # `python -m search query ... | head`: the reader left
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush is quiet
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m search", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the JSON API and the search page")
    serve.add_argument("--index", type=Path, help="index directory (default: index/)")
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default 8000)")
    serve.add_argument(
        "--processes",
        type=int,
        help="server processes on the port, each with its own engine and GIL (default 1; "
        "also SEARCH_PROCESSES): more serve concurrent clients on more cores",
    )
    # a sibling's socket, its processes' connection counts and its slot in them
    serve.add_argument(LISTEN_FD_FLAG, type=int, help=argparse.SUPPRESS)
    serve.add_argument(COUNTS_FD_FLAG, type=int, help=argparse.SUPPRESS)
    serve.add_argument(SLOT_FLAG, type=int, default=0, help=argparse.SUPPRESS)
    serve.add_argument(PARENT_FLAG, type=int, help=argparse.SUPPRESS)
    serve.add_argument(
        "--allow-writes",
        action="store_true",
        help="accept PUT and DELETE /api/articles/{id} (also SEARCH_WRITES=on). They need "
        "the bearer token in SEARCH_WRITE_TOKEN; without one, only on a loopback address",
    )
    query = commands.add_parser("query", help="search from the terminal")
    query.add_argument("text", help="the query")
    query.add_argument("--index", type=Path, help="index directory (default: index/)")
    query.add_argument("--mode", choices=MODES, default="hybrid")
    query.add_argument("--limit", type=int, default=10)
    query.add_argument("--lang", action="append", default=[], help="filter: en, es (repeatable)")
    query.add_argument("--json", action="store_true", help="print the API's JSON")
    return parser


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the index and model load (seconds), so a
    port already in use fails at once; uvicorn then serves on this very socket.

    Its protocol is named (IPPROTO_TCP, not 0): asyncio sets TCP_NODELAY only on
    connections whose socket says TCP, and without it every answer on a kept-alive
    connection waited ~40 ms for the client's delayed ACK (Nagle): 80 ms instead of
    15 ms for a lexical search over HTTP, measured by `make bench-scale`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise SearchError(
            f"Cannot listen on {host}:{port}: {error.strerror}. Stop the other server or "
            "choose another port with --port or SEARCH_PORT."
        ) from None
    listener.listen(_BACKLOG)
    listener.set_inheritable(True)
    return listener


def _serve_settings(args: argparse.Namespace, settings: ServiceSettings) -> ServiceSettings:
    """The settings with `serve`'s flags over them, checked as a whole: whether writes
    need a token depends on the address (`ServiceSettings.check_writes`)."""
    if args.processes is not None and not 1 <= args.processes <= 64:
        raise SettingsError(f"--processes {args.processes} is not in 1..64; try 2.")
    served = dataclasses.replace(
        settings,
        host=args.host or settings.host,
        port=args.port or settings.port,
        writes=settings.writes or args.allow_writes,
        processes=args.processes or settings.processes,
    )
    served.check_writes()
    return served


def _write_access(settings: ServiceSettings) -> WriteAccess | None:
    log = logging.getLogger("search")
    if not settings.writes:
        if settings.write_token is not None:
            log.warning("SEARCH_WRITE_TOKEN is set but writes are off: add --allow-writes")
        return None
    from search.write_api import WriteAccess  # its modules load only with writes on

    if settings.write_token is None:
        log.warning("writes on without a token: any process on this machine can write")
    else:
        log.info("writes on: PUT and DELETE /api/articles/{id} need the bearer token")
    return WriteAccess(token=settings.write_token, max_article_mb=settings.max_article_mb)


def _serve(args: argparse.Namespace, settings: ServiceSettings, index_dir: Path) -> int:
    host, port = settings.host, settings.port
    sibling = args.listen_fd is not None
    if sibling:  # started by another `serve` (`search.sibling_processes`)
        listener = socket.socket(fileno=args.listen_fd)
        exit_with_parent(args.parent_pid if args.parent_pid is not None else os.getppid())
    else:
        listener = _bind(host, port)
    # The index, the model and the translators load in a thread while this one
    # imports the web framework and builds the app (~1 s of Python on 2 cores):
    # much of the loading (ONNX Runtime's session, Apertium's processes) does not
    # hold the GIL.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load") as loader:
        loading = loader.submit(_loaded_engine, settings, index_dir)
        import uvicorn

        from search.app import create_app, server_options

        app = create_app(
            None,
            reload_seconds=settings.reload_seconds,
            workers=settings.workers,
            queue=settings.queue,
            writes=_write_access(settings),
        )
        app.state.engine = loading.result()
    siblings = None
    counts = None  # set when processes share the socket
    if sibling:
        counts = ConnectionCounts.attach(args.counts_fd, args.slot)
    elif settings.processes > 1:
        counts = ConnectionCounts.create(settings.processes)
        siblings = Siblings(
            settings.processes - 1, listener, counts, _sibling_args(settings, index_dir)
        )
        siblings.start()
    # Sharing the socket, a process accepts one connection per wake-up
    # (`search.sibling_processes`): asyncio accepts up to `backlog` at once.
    backlog = _BACKLOG if counts is None else 1
    config = uvicorn.Config(
        app, host=host, port=port, log_level="info", backlog=backlog, **server_options()
    )

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            listener.listen(_BACKLOG)  # asyncio listened with `backlog`: the queue again
            if counts is not None:
                state = self.server_state
                app.state.close_connection = lambda: counts.should_close(len(state.connections))
            app.state.engine.freeze_heap()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # here, not after `run`: uvicorn ends `run` by raising the SIGTERM or
            # SIGINT it caught again, which ends this process at once
            await super().shutdown(sockets)
            if siblings is not None:
                siblings.stop()

    try:
        Server(config).run(sockets=[listener])
    finally:
        if siblings is not None:
            siblings.stop()
    return EXIT_OK


def _sibling_args(settings: ServiceSettings, index_dir: Path) -> list[str]:
    """`serve`'s arguments for a sibling: the settings as this process resolved them
    (flags included); the environment it inherits gives the rest."""
    args = ["--index", str(index_dir.resolve()), "--host", settings.host]
    args += ["--port", str(settings.port), "--processes", "1"]
    return [*args, "--allow-writes"] if settings.writes else args


def _loaded_engine(settings: ServiceSettings, index_dir: Path) -> SearchEngine:
    engine = build_engine(settings, index_dir)
    engine.warm_up()
    health = engine.health()
    logging.getLogger("search").info(
        "serving %s: generation %s, %s passages; degraded: %s",
        index_dir,
        health.generation,
        health.passages,
        health.degraded or "nothing",
    )
    return engine


def _query(args: argparse.Namespace, settings: ServiceSettings, index_dir: Path) -> int:
    # One query needs one translator: a pool's others would start for nothing.
    engine = build_engine(dataclasses.replace(settings, translators=1), index_dir)
    request = SearchRequest(
        query=args.text, mode=args.mode, limit=args.limit, langs=tuple(args.lang)
    )
    response = engine.search(request)
    if args.json:
        print(json.dumps(search_body(response), ensure_ascii=False, indent=2))
    else:
        _print_readable(response)
    return EXIT_OK


def _emphasised_snippet(result: SearchResult) -> str:
    """The snippet with matches in **bold** (translated ones in _underscores_)."""
    window = result.snippet
    text = "".join(
        piece if mark is None else (f"_{piece}_" if mark.translated else f"**{piece}**")
        for piece, mark in result.snippet_pieces()
    )
    return ("…" if window.cut_before else "") + text + ("…" if window.cut_after else "")


def _print_readable(response: SearchResponse) -> None:
    print(
        f"{response.total} matches for {response.query!r} ({response.mode}, "
        f"{response.took_ms:.0f} ms)"
    )
    for name, text in response.translations.items():
        print(f"  translated to {name}: {text}")
    for note in response.notes:
        print(f"  note: {note}")
    if response.did_you_mean:
        print(f"  did you mean: {response.did_you_mean.query}")
    shown = response.results
    if not shown and response.closest:
        print("  nothing matches; the closest passages, which do not:")
        shown = response.closest
    for number, result in enumerate(shown, start=response.offset + 1):
        ranks = ", ".join(
            f"{leg} #{rank.rank}"
            for leg, rank in (
                ("lexical", result.lexical),
                ("semantic", result.semantic),
                ("feedback", result.feedback),
            )
            if rank
        )
        snippet = _emphasised_snippet(result)
        quote = f" (passage in {result.lang})" if result.lang != result.article_lang else ""
        print(f"\n{number}. [{result.article_lang}] {result.title}{quote}")
        print(
            f"   {result.article_id}  score {result.score:.4f} ({ranks})"
            + (f"  {result.match.replace('_', ' ')}" if result.match else "")
        )
        print(textwrap.indent(textwrap.fill(snippet, width=96), "   "))
