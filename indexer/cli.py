"""`python -m indexer build|add|remove|sync|watch|info`: parse arguments, call the core,
map errors to exit codes.

`build` writes the whole index from scratch; `add`, `remove` and `sync` change the
live one in place (`indexer.update`), costing what they change; `watch` syncs on
every change to the sources until Ctrl-C.

Exit codes: 0 ok, 1 failure (including --strict with bad inputs and a missing
--source), 2 usage error, 130 interrupted (Ctrl-C or SIGTERM; the build cleans up
and the live index is unchanged). Output into a pipe that closes early (`| head`)
ends the command quietly: the reader has what it wanted.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from indexer.articles import SizeLimit
from indexer.build import BuildOptions, build_index
from indexer.errors import IndexerError, SettingsError
from indexer.layout import IndexLayout
from indexer.manifest import Manifest
from indexer.progress import Progress
from indexer.settings import OVERSIZE_CHOICES, IndexerSettings

__all__ = ["main"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = IndexerSettings.from_env()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    index_dir = args.index or settings.index_dir
    try:
        with _sigterm_interrupts():
            if args.command == "build":
                code = _build(args, settings, index_dir)
            elif args.command == "info":
                code = _info(index_dir, as_json=args.json)
            else:
                from indexer.change_commands import run_change_command

                code = run_change_command(args, settings, index_dir)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except IndexerError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("interrupted: the live index was not changed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_OK


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C, so a killed build cleans up on its way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _discard_stdout() -> None:
    """Point stdout at /dev/null: Python's final flush would hit the closed pipe again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indexer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the whole index from scratch")
    build.add_argument(
        "--source",
        action="append",
        type=Path,
        help="folder of .txt/.md files or a .jsonl file; repeatable (default: seeds/)",
    )
    build.add_argument("--index", type=Path, help="index directory (default: index/)")
    build.add_argument("--model", help="sentence-transformers model name or local path")
    build.add_argument(
        "--translation",
        choices=("auto", "on", "off"),
        help="Apertium translation for cross-lingual search (default: auto)",
    )
    build.add_argument(
        "--strict", action="store_true", help="fail (exit 1) on any bad input instead of skipping"
    )
    build.add_argument(
        "--allow-missing",
        action="store_true",
        help="a --source that does not exist is skipped with a warning instead of failing",
    )
    build.add_argument(
        "--max-tokens", type=int, default=192, help="passage size limit in model tokens"
    )
    build.add_argument(
        "--max-article-mb",
        type=float,
        help="largest article in MB of UTF-8 text (default: SEARCH_MAX_ARTICLE_MB or 5)",
    )
    build.add_argument(
        "--oversize",
        choices=OVERSIZE_CHOICES,
        help="a larger article is truncated to the limit or skipped (default: truncate)",
    )
    _add_change_commands(commands)
    info = commands.add_parser("info", help="describe the live index")
    info.add_argument("--index", type=Path, help="index directory (default: index/)")
    info.add_argument("--json", action="store_true", help="print the manifest as JSON")
    return parser


def _add_change_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add = commands.add_parser(
        "add", help="insert or replace articles (by id) in the live index, without a rebuild"
    )
    add.add_argument(
        "sources", nargs="+", type=Path, metavar="SOURCE", help="folder, .jsonl, .txt or .md"
    )
    remove = commands.add_parser("remove", help="remove articles by id from the live index")
    remove.add_argument(
        "ids", nargs="+", metavar="ID", help="article id (see the API's article_id)"
    )
    sync = commands.add_parser(
        "sync",
        help="make the live index match SOURCEs: add new, replace changed, remove vanished "
        "articles (builds the index if there is none)",
    )
    sync.add_argument("sources", nargs="+", type=Path, metavar="SOURCE")
    watch = commands.add_parser("watch", help="sync SOURCEs on every change, until Ctrl-C")
    watch.add_argument("sources", nargs="+", type=Path, metavar="SOURCE")
    watch.add_argument(
        "--debounce-ms", type=int, default=1000, help="wait for this quiet time before syncing"
    )
    for command in (add, remove, sync, watch):
        command.add_argument("--index", type=Path, help="index directory (default: index/)")
    for command in (add, sync, watch):
        command.add_argument(
            "--max-article-mb", type=float, help="largest article in MB of UTF-8 text"
        )
        command.add_argument("--oversize", choices=OVERSIZE_CHOICES, help="truncate or skip")
        command.add_argument(
            "--strict", action="store_true", help="fail (exit 1) on any bad input, change nothing"
        )


def _build(args: argparse.Namespace, settings: IndexerSettings, index_dir: Path) -> int:
    from indexer.chunking import ChunkingOptions

    try:
        chunking = ChunkingOptions(
            max_tokens=args.max_tokens, overlap_tokens=min(48, max(0, args.max_tokens // 4))
        )
    except ValueError as error:
        print(f"error: --max-tokens: {error}", file=sys.stderr)
        return EXIT_USAGE
    max_article_mb = settings.max_article_mb if args.max_article_mb is None else args.max_article_mb
    if not max_article_mb > 0:
        print(f"error: --max-article-mb {args.max_article_mb:g} must be above 0", file=sys.stderr)
        return EXIT_USAGE
    options = BuildOptions(
        sources=tuple(args.source or [Path("seeds")]),
        index_dir=index_dir,
        model_ref=args.model or settings.model_ref,
        allow_downloads=settings.allow_downloads,
        strict=args.strict,
        allow_missing=args.allow_missing,
        translation=args.translation or settings.translation,
        multilingual_model=settings.multilingual_model,
        batch_size=settings.batch_size,
        onnx_precision=settings.onnx_precision,
        passage_precision=settings.passage_precision,
        export_cache=settings.export_cache,
        chunking=chunking,
        size_limit=SizeLimit(max_article_mb, args.oversize or settings.oversize_articles),
    )
    report = build_index(options, progress=Progress())
    manifest = report.manifest
    for problem in report.problems:
        print(f"warning: {problem}", file=sys.stderr)
    languages = ", ".join(f"{k} {v}" for k, v in manifest.passages_by_language.items()) or "none"
    info = manifest.translation
    failed = (
        f", {info.untranslated_passages} FAILED (see warnings)"
        if info.untranslated_passages
        else ""
    )
    pivot = f", embedding pivot {info.embedding_pivot}" if info.embedding_pivot else ""
    translation = (
        f"on ({info.translated_passages} passages translated{failed}{pivot})"
        if info.enabled
        else f"off ({info.reason})"
    )
    print(
        f"built generation {manifest.generation} in {index_dir}/\n"
        f"  articles:    {manifest.articles}\n"
        f"  passages:    {manifest.passages} ({languages})\n"
        f"  skipped:     {manifest.skipped_inputs} input(s); warnings: {manifest.warnings}\n"
        f"  model:       {manifest.model.name} ({manifest.model.dimension} dims)\n"
        f"  translation: {translation}\n"
        f"  time:        {manifest.build_seconds:.1f} s, "
        f"{report.passages_per_second:.1f} passages/s"
    )
    return EXIT_OK


def _info(index_dir: Path, *, as_json: bool) -> int:
    generation = IndexLayout(index_dir).live_generation()
    manifest = Manifest.read(generation.manifest)
    if as_json:
        print(manifest.to_json())
        return EXIT_OK
    size = sum(p.stat().st_size for p in generation.root.rglob("*") if p.is_file())
    languages = Counter(manifest.passages_by_language)
    print(
        f"index:        {index_dir}/ -> {generation.root.name}\n"
        f"built:        {manifest.created_at} in {manifest.build_seconds:.1f} s\n"
        f"sources:      {', '.join(manifest.sources)}\n"
        f"articles:     {manifest.articles}\n"
        f"passages:     {manifest.passages} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(languages.items()))})\n"
        f"model:        {manifest.model.name} ({manifest.model.dimension} dims, "
        f"{'multilingual' if manifest.model.multilingual else 'monolingual'})\n"
        f"              {manifest.model.ref}\n"
        f"translation:  {'on' if manifest.translation.enabled else 'off'} "
        f"({manifest.translation.reason})\n"
        f"chunking:     {manifest.chunking}\n"
        f"size on disk: {size / 1e6:.2f} MB"
    )
    return EXIT_OK
