"""Loading a retrieval set in BEIR layout: `corpus.jsonl`, `queries.jsonl`, `qrels.tsv`.

BEIR (Thakur et al., NeurIPS 2021 Datasets and Benchmarks) keeps one JSON object per
line: a corpus line has `_id`, `text` and maybe `title` (and here maybe `lang`,
`date`, `source`); a query line has `_id`, `text` and, in our bilingual sets,
`lang`. The qrels are a tab-separated file with the header `query-id corpus-id
score`; `qrels/test.tsv` (the BEIR download layout) is accepted too.

A malformed line is an error naming the file and line, never skipped: a silently
dropped query or document would change the numbers without anyone noticing.
Judgements with score <= 0 are not relevant and are dropped (BEIR files carry some).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CorpusDoc", "DataSet", "DataSetError", "Query", "load_beir"]

_QRELS_HEADER = ("query-id", "corpus-id", "score")
_QRELS_CANDIDATES = ("qrels.tsv", "qrels/test.tsv")


class DataSetError(Exception):
    """The data directory is missing a file or a line is malformed; says which and why."""


@dataclass(frozen=True, slots=True)
class CorpusDoc:
    id: str
    text: str
    title: str | None = None
    lang: str | None = None  # only when corpus.jsonl says so
    date: str | None = None  # ISO 8601, passed to the indexer (news sets have them)
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Query:
    id: str
    text: str
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class DataSet:
    """A loaded set. `qrels`: query id -> {document id -> graded relevance >= 1}."""

    name: str
    path: Path
    corpus: tuple[CorpusDoc, ...]
    queries: tuple[Query, ...]
    qrels: Mapping[str, Mapping[str, int]]

    def judged_queries(self) -> list[Query]:
        """The queries that have at least one relevant document, in file order."""
        return [query for query in self.queries if self.qrels.get(query.id)]


def load_beir(directory: Path) -> DataSet:
    """Read and check a BEIR directory; raises `DataSetError` on any problem."""
    if not directory.is_dir():
        raise DataSetError(
            f"Data directory {str(directory)!r} does not exist. Pass --data DIR holding "
            "corpus.jsonl, queries.jsonl and qrels.tsv (BEIR layout)."
        )
    corpus = tuple(_read_corpus(_required(directory, "corpus.jsonl")))
    queries = tuple(_read_queries(_required(directory, "queries.jsonl")))
    _check_unique("corpus.jsonl", [doc.id for doc in corpus])
    _check_unique("queries.jsonl", [query.id for query in queries])
    qrels_path = next(
        (directory / name for name in _QRELS_CANDIDATES if (directory / name).is_file()), None
    )
    if qrels_path is None:
        raise DataSetError(
            f"{directory}: no qrels.tsv (or qrels/test.tsv). It needs the header "
            "'query-id<TAB>corpus-id<TAB>score' and one judgement per line."
        )
    qrels = _read_qrels(qrels_path)
    if not corpus or not queries or not qrels:
        raise DataSetError(
            f"{directory}: corpus ({len(corpus)} documents), queries ({len(queries)}) and "
            f"qrels ({len(qrels)} judged queries) must all be non-empty."
        )
    return DataSet(
        name=_set_name(directory), path=directory, corpus=corpus, queries=queries, qrels=qrels
    )


def _set_name(directory: Path) -> str:
    """`xquad-bilingual` for .../xquad/bilingual: the folder and its parent."""
    resolved = directory.resolve()
    parent = resolved.parent.name
    return f"{parent}-{resolved.name}" if parent else resolved.name


def _required(directory: Path, name: str) -> Path:
    path = directory / name
    if not path.is_file():
        raise DataSetError(f"{directory}: {name} is missing (BEIR layout expected).")
    return path


def _read_corpus(path: Path) -> Iterator[CorpusDoc]:
    for location, record in _json_lines(path):
        yield CorpusDoc(
            id=_id_of(record, location),
            text=_string(record, "text", location),
            title=_optional_string(record, "title", location),
            lang=_optional_string(record, "lang", location),
            date=_optional_string(record, "date", location),
            source=_optional_string(record, "source", location),
        )


def _read_queries(path: Path) -> Iterator[Query]:
    for location, record in _json_lines(path):
        yield Query(
            id=_id_of(record, location),
            text=_string(record, "text", location),
            lang=_optional_string(record, "lang", location),
        )


def _json_lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            location = f"{path}:{number}"
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataSetError(
                    f"{location}: malformed JSON ({error.msg} at column {error.colno})."
                ) from error
            if not isinstance(record, dict):
                raise DataSetError(f"{location}: a line must be a JSON object with _id and text.")
            yield location, record


def _id_of(record: Mapping[str, Any], location: str) -> str:
    value = record.get("_id")
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise DataSetError(f"{location}: missing or empty '_id' (a string or integer).")
    return str(value).strip()


def _string(record: Mapping[str, Any], key: str, location: str) -> str:
    value = record.get(key)
    if not isinstance(value, str):
        raise DataSetError(f"{location}: missing or non-string {key!r}.")
    return value


def _optional_string(record: Mapping[str, Any], key: str, location: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise DataSetError(f"{location}: {key!r} must be a string, got {value!r}.")
    return value.strip() or None


def _check_unique(name: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise DataSetError(f"{name}: duplicate _id {item!r}; ids must be unique.")
        seen.add(item)


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8-sig") as handle:
        lines = enumerate(handle, start=1)
        header = next((line for _, line in lines if line.strip()), "")
        if tuple(header.split()) != _QRELS_HEADER:
            raise DataSetError(
                f"{path}:1: the first line must be the header 'query-id<TAB>corpus-id<TAB>score', "
                f"got {header.strip()!r}."
            )
        for number, line in lines:
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) != 3:
                fields = line.split()
            if len(fields) != 3:
                raise DataSetError(
                    f"{path}:{number}: expected 3 tab-separated fields (query-id, corpus-id, "
                    f"score), got {len(fields)}."
                )
            query_id, doc_id, raw_score = (field.strip() for field in fields)
            try:
                score = int(float(raw_score))
            except (ValueError, OverflowError) as error:
                raise DataSetError(
                    f"{path}:{number}: score {raw_score!r} is not a number."
                ) from error
            if not query_id or not doc_id:
                raise DataSetError(f"{path}:{number}: empty query-id or corpus-id.")
            if score > 0:
                qrels.setdefault(query_id, {})[doc_id] = score
    return qrels
