"""Changes without a rebuild: add, remove and sync give the index a full build would.

The property test drives random sequences of file edits and changes through the
real writers (tantivy segments, the SQLite store, the shared vectors file) with
the hashing stand-in encoder, then compares every answer with a fresh build of the
same final sources: same passages, same scores, same order up to exact ties. Rows
differ (a change appends them) and so does the order of exact ties, which breaks
by row; nothing else may.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.articles import Article, SizeLimit
from indexer.errors import IndexerError
from indexer.layout import IndexLayout
from indexer.lexical_segments import read_segments
from indexer.manifest import Manifest
from indexer.sync import plan_sync
from indexer.update import ArticleChange, apply_change
from search.engine import SearchEngine
from search.models import SearchRequest
from tests.corpus import ARTICLES
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast

QUERIES = ["attack security chief", "huracán Acapulco", "elección votantes", "extorsion", "the"]
_TEXTS = list(ARTICLES.values())


def answers(
    index_dir: Path, encoder: FakeEncoder
) -> dict[tuple[str, str], list[tuple[float, str]]]:
    """Every query in every mode: (score, passage id), ties ordered by id."""
    engine = SearchEngine(index_dir, encoder=encoder)  # type: ignore[arg-type]
    found = {}
    for query in QUERIES:
        for mode in ("lexical", "semantic", "hybrid"):
            request = SearchRequest(query=query, mode=mode, limit=50, per_article=20)
            response = engine.search(request)
            found[query, mode] = sorted(
                (-round(r.score, 5), r.passage_id) for r in response.results
            )
    return found


def sync(index_dir: Path, folder: Path, encoder: FakeEncoder) -> None:
    apply_change(
        index_dir,
        lambda stored: plan_sync([folder], stored, size_limit=SizeLimit()),
        encoder=encoder,  # type: ignore[arg-type]
    )


def write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# Operations on the source folder: (kind, file number, text number).
operations = st.lists(
    st.tuples(
        st.sampled_from(["write", "delete", "sync", "remove-id"]),
        st.integers(0, 5),
        st.integers(0, len(_TEXTS) - 1),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=operations)
def test_any_sequence_of_changes_equals_a_full_build(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    steps: list[tuple[str, int, int]],
) -> None:
    # Tiny segments, few allowed: every change rewrites, folds and composes segments.
    monkeypatch.setattr("indexer.lexical_segments.MAX_SEGMENT_ROWS", 3)
    monkeypatch.setattr("indexer.lexical_segments.MAX_SEGMENTS", 3)
    root = tmp_path_factory.mktemp("changes")
    folder, index_dir = root / "articles", root / "index"
    encoder = FakeEncoder()
    write(folder, "a0.txt", _TEXTS[0])
    write(folder, "a1.txt", _TEXTS[3])
    build_fake_index([folder], index_dir, encoder=encoder)
    for kind, number, text in steps:
        name = f"a{number}.txt"
        if kind == "write":
            write(folder, name, _TEXTS[text])
        elif kind == "delete":
            (folder / name).unlink(missing_ok=True)
        elif kind == "remove-id":
            apply_change(index_dir, ArticleChange(removals=[name], kind="remove"), encoder=encoder)  # type: ignore[arg-type]
            (folder / name).unlink(missing_ok=True)  # else the next sync brings it back
        else:
            sync(index_dir, folder, encoder)
    if not any(folder.iterdir()):
        write(folder, "last.txt", _TEXTS[1])  # a build needs at least one article
    sync(index_dir, folder, encoder)
    rebuilt = root / "rebuilt"
    build_fake_index([folder], rebuilt, encoder=encoder)
    assert answers(index_dir, encoder) == answers(rebuilt, encoder)
    changed = Manifest.read(IndexLayout(index_dir).live_generation().manifest)
    fresh = Manifest.read(IndexLayout(rebuilt).live_generation().manifest)
    assert (changed.articles, changed.passages) == (fresh.articles, fresh.passages)
    segments = read_segments(IndexLayout(index_dir).live_generation().tantivy)
    assert all(not segment.get("deletes") for segment in segments)
    assert len(segments) <= 3 + 2  # folding keeps the count bounded


@pytest.fixture()
def small_index(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "articles"
    for name, text in list(ARTICLES.items())[:4]:
        write(folder, name, text)
    build_fake_index([folder], tmp_path / "index", encoder=FakeEncoder())
    return folder, tmp_path / "index"


def test_an_added_article_is_found_and_costs_only_its_passages(
    small_index: tuple[Path, Path],
) -> None:
    _, index_dir = small_index
    encoder = FakeEncoder()
    before = Manifest.read(IndexLayout(index_dir).live_generation().manifest)
    article = Article(
        id="new.txt", title="Bakery", text="A bakery opened downtown today.", origin="x"
    )
    report = apply_change(index_dir, ArticleChange(upserts=[article]), encoder=encoder)  # type: ignore[arg-type]
    assert report.added == ["new.txt"] and report.encoded == 1
    manifest = report.manifest
    assert manifest is not None and manifest.articles == before.articles + 1
    assert manifest.change["rewritten_passages"] == 0  # no old segment was touched
    engine = SearchEngine(index_dir, encoder=encoder)  # type: ignore[arg-type]
    response = engine.search(SearchRequest(query="bakery downtown", mode="lexical"))
    assert [r.article_id for r in response.results] == ["new.txt"]


def test_unchanged_sources_sync_to_nothing(small_index: tuple[Path, Path]) -> None:
    folder, index_dir = small_index
    live = IndexLayout(index_dir).live_generation_id()
    report = apply_change(
        index_dir,
        lambda stored: plan_sync([folder], stored, size_limit=SizeLimit()),
        encoder=FakeEncoder(),  # type: ignore[arg-type]
    )
    assert report.manifest is None
    assert IndexLayout(index_dir).live_generation_id() == live


def test_a_replaced_article_reuses_its_unchanged_passages_vectors(
    small_index: tuple[Path, Path],
) -> None:
    folder, index_dir = small_index
    path = folder / "en/harfuch-attack.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA new closing line.", encoding="utf-8")
    report = apply_change(
        index_dir,
        lambda stored: plan_sync([folder], stored, size_limit=SizeLimit()),
        encoder=FakeEncoder(),  # type: ignore[arg-type]
    )
    assert report.replaced == ["en/harfuch-attack.txt"]
    assert report.encoded <= 1  # only the passage that changed


def test_a_second_writer_is_told_the_index_is_busy(small_index: tuple[Path, Path]) -> None:
    _, index_dir = small_index
    with IndexLayout(index_dir).build_lock(), pytest.raises(IndexerError, match="Another build"):
        apply_change(index_dir, ArticleChange(removals=["en/hurricane.txt"]), encoder=FakeEncoder())  # type: ignore[arg-type]


def test_removing_an_unknown_id_changes_nothing(small_index: tuple[Path, Path]) -> None:
    _, index_dir = small_index
    report = apply_change(index_dir, ArticleChange(removals=["nope"]), encoder=FakeEncoder())  # type: ignore[arg-type]
    assert report.manifest is None and report.unknown == ["nope"]


def test_sync_removes_only_articles_of_the_named_sources(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    write(first, "one.txt", _TEXTS[0])
    write(second, "two.txt", _TEXTS[1])
    index_dir = tmp_path / "index"
    build_fake_index([first, second], index_dir, encoder=FakeEncoder())
    (first / "one.txt").unlink()
    write(first, "three.txt", _TEXTS[2])
    report = apply_change(
        index_dir,
        lambda stored: plan_sync([first], stored, size_limit=SizeLimit()),
        encoder=FakeEncoder(),  # type: ignore[arg-type]
    )
    assert report.removed == ["one.txt"] and report.added == ["three.txt"]
    assert report.manifest is not None and report.manifest.articles == 2  # two.txt stays
