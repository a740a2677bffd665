"""`add`, `remove`, `sync` and `watch`: the command-line face of `indexer.update`.

Parses nothing itself (`indexer.cli` does); reads sources, calls the core, prints
one summary per change. Exit codes are the build's: 0 ok, 1 failure (a missing
source, --strict with bad inputs, another writer busy), 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from indexer.articles import SizeLimit, read_all_articles
from indexer.errors import IndexerError, IndexNotFoundError, InputProblemsError, SourceNotFoundError
from indexer.layout import IndexLayout
from indexer.manifest import Manifest
from indexer.progress import Progress
from indexer.settings import IndexerSettings
from indexer.sync import plan_sync
from indexer.update import ArticleChange, ChangeReport, StoredOrigins, apply_change

__all__ = ["run_change_command", "sync_index"]

log = logging.getLogger(__name__)

EXIT_OK = 0
_WATCHED_SUFFIXES = (".txt", ".md", ".jsonl", ".html", ".htm")


def run_change_command(args: argparse.Namespace, settings: IndexerSettings, index_dir: Path) -> int:
    if args.command == "remove":
        _print(apply_change(index_dir, ArticleChange(removals=args.ids, kind="remove")), index_dir)
        return EXIT_OK
    sources: list[Path] = list(args.sources)
    size_limit = SizeLimit(
        settings.max_article_mb if args.max_article_mb is None else args.max_article_mb,
        args.oversize or settings.oversize_articles,
    )
    missing = [str(source) for source in sources if not source.exists()]
    if missing:
        raise SourceNotFoundError(missing)
    if args.command == "add":
        articles, problems = read_all_articles(sources, size_limit=size_limit)
        if args.strict and problems:
            raise InputProblemsError([str(p) for p in problems])
        change = ArticleChange(upserts=articles, kind="add", problems=problems)
        _print(apply_change(index_dir, change, progress=Progress()), index_dir)
        return EXIT_OK
    if args.command == "sync":
        _print(sync_index(index_dir, sources, settings, size_limit, strict=args.strict), index_dir)
        return EXIT_OK
    return _watch(index_dir, sources, settings, size_limit, args.debounce_ms, strict=args.strict)


def sync_index(
    index_dir: Path,
    sources: Sequence[Path],
    settings: IndexerSettings,
    size_limit: SizeLimit,
    *,
    strict: bool = False,
) -> ChangeReport:
    """Make the live index match `sources`; with no usable index, build one from them."""
    layout = IndexLayout(index_dir)
    try:
        Manifest.read(layout.live_generation().manifest)
    except IndexerError as error:  # none yet, or one this version cannot change in place
        if not isinstance(error, IndexNotFoundError):
            print(f"note: rebuilding: {error}", file=sys.stderr)
        return _build(index_dir, sources, settings, size_limit, strict=strict)

    def plan(stored: StoredOrigins) -> ArticleChange:
        change = plan_sync(sources, stored, size_limit=size_limit)
        if strict and change.problems:
            raise InputProblemsError([str(p) for p in change.problems])
        return change

    return apply_change(index_dir, plan, progress=Progress())


def _build(
    index_dir: Path,
    sources: Sequence[Path],
    settings: IndexerSettings,
    size_limit: SizeLimit,
    *,
    strict: bool,
) -> ChangeReport:
    from indexer.build import BuildOptions, build_index

    options = BuildOptions(
        sources=tuple(sources),
        index_dir=index_dir,
        model_ref=settings.model_ref,
        allow_downloads=settings.allow_downloads,
        strict=strict,
        translation=settings.translation,
        multilingual_model=settings.multilingual_model,
        batch_size=settings.batch_size,
        onnx_precision=settings.onnx_precision,
        passage_precision=settings.passage_precision,
        export_cache=settings.export_cache,
        size_limit=size_limit,
    )
    report = build_index(options, progress=Progress())
    return ChangeReport(report.manifest, report.problems, seconds=report.manifest.build_seconds)


def _watch(
    index_dir: Path,
    sources: Sequence[Path],
    settings: IndexerSettings,
    size_limit: SizeLimit,
    debounce_ms: int,
    *,
    strict: bool,
) -> int:
    """Sync now, then after every burst of changes; Ctrl-C between syncs ends it (0)."""
    from watchfiles import watch

    def sync_and_report() -> None:
        try:
            _print(sync_index(index_dir, sources, settings, size_limit, strict=strict), index_dir)
        except IndexerError as error:  # a busy writer or bad input: report, keep watching
            print(f"error: {error}", file=sys.stderr)

    sync_and_report()
    print(f"watching {', '.join(map(str, sources))} (Ctrl-C to stop)", file=sys.stderr)
    for _ in watch(
        *sources,
        debounce=debounce_ms,
        watch_filter=lambda change, path: path.lower().endswith(_WATCHED_SUFFIXES),
        raise_interrupt=False,
    ):
        sync_and_report()
    print("stopped watching", file=sys.stderr)
    return EXIT_OK


def _print(report: ChangeReport, index_dir: Path) -> None:
    for problem in report.problems:
        print(f"warning: {problem}", file=sys.stderr)
    for article_id in report.unknown:
        print(f"warning: no article {article_id!r} in the index (nothing removed)", file=sys.stderr)
    if report.manifest is None:
        print(f"unchanged: {index_dir}/ already matches ({time.strftime('%H:%M:%S')})")
        return
    manifest = report.manifest
    change = manifest.change
    if change.get("kind") == "build":
        print(
            f"built generation {manifest.generation} in {index_dir}/: {manifest.articles} "
            f"articles, {manifest.passages} passages; {report.seconds:.1f} s"
        )
        return
    print(
        f"generation {manifest.generation} in {index_dir}/ ({change.get('kind', 'change')}): "
        f"{len(report.added)} added, {len(report.replaced)} replaced, "
        f"{len(report.removed)} removed; {report.encoded} passages encoded, "
        f"{change.get('rewritten_passages', 0)} re-indexed; {manifest.articles} articles, "
        f"{manifest.passages} passages; {report.seconds:.1f} s"
    )
