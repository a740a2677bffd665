"""Writes from the service: insert, replace or remove one article, live on return.

A write takes the same incremental path as `python -m indexer add` and `remove`
(`indexer.update.apply_change`, recorded as kind "api"): the index's writer lock,
its chunking, model and translation, an atomic publish. Then the engine reloads at
once, so the writer's next search sees the change instead of waiting up to a
reload period for the background check.

An article is read by the rules of a JSONL line (`article_from_record`), more
strictly: a field a JSONL reader would ignore with a warning (a `date` that is no
date, a `title` that is a number), a key that is none of the article's, or a text
over `max_article_mb` refuses the whole write, because a pipeline should hear of
its mistake now rather than find the field missing later.

The passage encoder is opened on the first write and kept for the next ones (per
model export, as the engine keeps its query encoders); a test's stand-in given to
the engine serves the indexes built with it.

One write at a time in this process (a lock: concurrent writes wait their turn).
Another process holding the writer lock (a build, `indexer sync`) makes a write
fail at once with `WriterBusyError`; trying again later works.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from indexer.articles import Article, SizeLimit, article_from_record
from indexer.manifest import Manifest
from indexer.preparation import API_ORIGIN
from indexer.query_encoder import TextEncoder
from indexer.settings import DEFAULT_MAX_ARTICLE_MB
from indexer.update import ArticleChange, ChangeReport, apply_change, open_passage_encoder
from search.engine import SearchEngine
from search.errors import (
    ArticleNotFoundError,
    ArticleTooLargeError,
    BadArticleError,
    bad_parameter,
)
from search.generation import EncoderPool
from search.models import WriteResult

__all__ = ["ARTICLE_KEYS", "ArticleWriter"]

# What an article sent to be written may hold; `id`, if given, must be the URL's.
ARTICLE_KEYS = ("id", "title", "text", "date", "source", "url", "lang")


class ArticleWriter:
    def __init__(
        self, engine: SearchEngine, *, max_article_mb: float = DEFAULT_MAX_ARTICLE_MB
    ) -> None:
        """`engine`: the one serving the index; it reloads after each write, and the
        encoder it was given (a test's) embeds the new passages too."""
        self._engine = engine
        self._size_limit = SizeLimit(max_article_mb, oversize="skip")
        self._lock = threading.Lock()
        self._encoders = EncoderPool(open_passage_encoder)
        given = engine.given_encoder
        if given is not None and hasattr(given, "count_tokens"):  # it can chunk too
            self._encoders.add(given)  # serves the indexes built with its model

    @property
    def max_article_mb(self) -> float:
        return self._size_limit.max_mb

    def put(self, article_id: str, record: object) -> WriteResult:
        """Insert the article, or replace the one with its id."""
        started = time.perf_counter()
        article = self._read(article_id, record)
        report = self._apply(ArticleChange(upserts=[article], kind="api"))
        failed = [problem.reason for problem in report.problems if problem.skipped]
        if failed:  # chunking failed: no passages could be made of this text
            raise BadArticleError(f"The article could not be indexed: {failed[0]}.")
        return self._result(article_id, report, started)

    def delete(self, article_id: str) -> WriteResult:
        """Remove the article; `ArticleNotFoundError` if the live index has none."""
        started = time.perf_counter()
        report = self._apply(ArticleChange(removals=[article_id], kind="api"))
        if report.manifest is None:
            raise ArticleNotFoundError(article_id)
        return self._result(article_id, report, started)

    def _apply(self, change: ArticleChange) -> ChangeReport:
        with self._lock:
            report = apply_change(
                self._engine.index_dir, change, open_encoder=self._passage_encoder
            )
            if report.manifest is not None:
                self._engine.reload_now()
            return report

    def _passage_encoder(self, index_dir: Path, manifest: Manifest) -> TextEncoder:
        """The encoder of the live index's passages, opened once per model export
        and kept (opening the ONNX export is ~1.2 s of a ~2 s write)."""
        return cast(TextEncoder, self._encoders.get(index_dir, manifest))

    def _result(self, article_id: str, report: ChangeReport, started: float) -> WriteResult:
        served = self._engine.snapshot
        return WriteResult(
            generation=served.generation,
            article_id=article_id,
            added=report.added,
            replaced=report.replaced,
            removed=report.removed,
            passages=len(served.passages_of(article_id)),
            encoded_passages=report.encoded,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _read(self, article_id: str, record: object) -> Article:
        """The article the request describes, or the error that says what to fix."""
        if not article_id.strip() or article_id != article_id.strip():
            raise bad_parameter(
                "article_id",
                "The article id {article_id!r} in the URL is empty or starts or ends with "
                "spaces; ids are kept as written, so send it without them.",
                article_id=article_id,
            )
        if not isinstance(record, Mapping):
            raise BadArticleError(
                "The body must be a JSON object with at least 'text', e.g. "
                '{"title": "...", "text": "..."}.'
            )
        unknown = sorted(str(key) for key in record if key not in ARTICLE_KEYS)
        if unknown:
            raise BadArticleError(
                f"Unknown field(s) {', '.join(map(repr, unknown))}; an article has "
                f"{', '.join(ARTICLE_KEYS)}.",
                field=unknown[0],
            )
        body_id = record.get("id")
        same_id = isinstance(body_id, str | int) and not isinstance(body_id, bool)
        if body_id is not None and not (same_id and str(body_id).strip() == article_id):
            raise bad_parameter(
                "id",
                "The body's id {body_id!r} is not the URL's {article_id!r}; the URL names "
                "the article: leave 'id' out of the body, or make them equal.",
                body_id=body_id,
                article_id=article_id,
            )
        found = article_from_record({**record, "id": article_id}, API_ORIGIN + article_id)
        problems = [item for item in found if not isinstance(item, Article)]
        if problems:  # skipped or, stricter than JSONL, a field it would ignore
            reasons = "; ".join(problem.reason.removesuffix("; ignored") for problem in problems)
            raise BadArticleError(f"The article cannot be written: {reasons}.")
        article = next(item for item in found if isinstance(item, Article))
        kept, too_large = self._size_limit.apply(article)
        if too_large is not None or kept is None:
            size = len(article.text.encode("utf-8")) / 1e6
            raise ArticleTooLargeError(
                f"The article's text is {size:.1f} MB, over the {self.max_article_mb:g} MB "
                "limit (SEARCH_MAX_ARTICLE_MB); split it into several articles."
            )
        return kept
