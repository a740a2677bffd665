"""Large articles: capped in size, chunked with progress, language detected cheaply.

A 20 MB JSONL line once ran for ten minutes and took its neighbours down with it.
Now an article over the limit is truncated (or skipped) with a warning naming its
line, chunking reports progress in characters, and langdetect runs once per
article and once per language change, not once per paragraph and per passage.
Timings are measured elsewhere (see the README); these tests check behaviour.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from indexer.articles import Article, InputProblem, SizeLimit, read_articles
from indexer.build import BuildOptions, build_index
from indexer.cli import main
from indexer.encoder import Encoder
from indexer.errors import SettingsError
from indexer.layout import GenerationPaths
from indexer.metadata_store import read_articles_store, read_passages_store
from indexer.progress import Progress
from indexer.settings import IndexerSettings
from tests import test_language
from tests.conftest import BuildFn

ENGLISH = test_language.PARAGRAPHS["en"]
SPANISH = test_language.PARAGRAPHS["es"]
langdetect_runs = test_language.langdetect_runs  # the fixture: texts langdetect ran on


def write_lines(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def long_article(paragraphs: int) -> str:
    """English paragraphs around a Spanish block: two language changes."""
    english = [f"{ENGLISH} Paragraph {n}." for n in range(paragraphs)]
    spanish = [f"{SPANISH} Párrafo {n}." for n in range(paragraphs // 4)]
    half = paragraphs // 2
    return "\n\n".join(english[:half] + spanish + english[half:]) + "\n"


class RecordingProgress(Progress):
    def __init__(self) -> None:
        super().__init__(enabled=False)
        self.stages: dict[str, tuple[int, list[int]]] = {}
        self._current = ""

    def stage(self, label: str, total: int, *, unit: str = "", scale: float = 1.0) -> None:
        self._current = label
        self.stages[label] = (total, [])

    def advance(self, count: int = 1) -> None:
        self.stages[self._current][1].append(count)


# --- the size limit ------------------------------------------------------------------


def test_an_oversize_article_is_truncated_with_a_warning_naming_its_line(
    tmp_path: Path,
) -> None:
    big = ("word " * 1000 + "\n") * 60  # 300 kB
    path = write_lines(
        tmp_path / "in.jsonl",
        [
            {"id": "before", "text": ENGLISH},
            {"id": "big", "text": big},
            {"id": "after", "text": SPANISH},
        ],
    )
    items = list(read_articles([path], size_limit=SizeLimit(max_mb=0.1)))
    articles = {i.id: i for i in items if isinstance(i, Article)}
    assert list(articles) == ["before", "big", "after"]
    truncated = articles["big"].text
    assert 0.099e6 < len(truncated.encode()) <= 0.1e6
    assert big.startswith(truncated) and truncated.endswith((" ", "\n"))
    (problem,) = [i for i in items if isinstance(i, InputProblem)]
    assert str(problem) == (
        f"{path}:2: article is 0.3 MB, over the 0.1 MB limit (--max-article-mb); "
        "only its first part was indexed (kept)"
    )


def test_an_oversize_article_can_be_skipped(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "in.jsonl",
        [{"id": "big", "text": "é" * 60_000}, {"id": "after", "text": SPANISH}],
    )
    items = list(read_articles([path], size_limit=SizeLimit(max_mb=0.1, oversize="skip")))
    assert [i.id for i in items if isinstance(i, Article)] == ["after"]
    (problem,) = [i for i in items if isinstance(i, InputProblem)]
    assert problem.skipped
    assert problem.location == f"{path}:1"
    assert "0.1 MB, over the 0.1 MB limit" in problem.reason  # 120,000 bytes of "é"


def test_the_limit_comes_from_the_environment_or_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = IndexerSettings.from_env({})
    assert (settings.max_article_mb, settings.oversize_articles) == (5.0, "truncate")
    settings = IndexerSettings.from_env(
        {"SEARCH_MAX_ARTICLE_MB": "0.5", "SEARCH_OVERSIZE_ARTICLES": "skip"}
    )
    assert (settings.max_article_mb, settings.oversize_articles) == (0.5, "skip")
    for env, named in [
        ({"SEARCH_MAX_ARTICLE_MB": "lots"}, "SEARCH_MAX_ARTICLE_MB='lots'"),
        ({"SEARCH_MAX_ARTICLE_MB": "0"}, "SEARCH_MAX_ARTICLE_MB='0'"),
        ({"SEARCH_OVERSIZE_ARTICLES": "shrink"}, "SEARCH_OVERSIZE_ARTICLES='shrink'"),
    ]:
        with pytest.raises(SettingsError, match=named):
            IndexerSettings.from_env(env)
    monkeypatch.setenv("SEARCH_TRANSLATION", "off")
    assert main(["build", "--max-article-mb", "0", "--index", str(tmp_path / "index")]) == 2
    assert "--max-article-mb 0 must be above 0" in capsys.readouterr().err


def test_the_flags_reach_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_TRANSLATION", "off")
    path = write_lines(
        tmp_path / "in.jsonl",
        [{"id": "small", "text": ENGLISH}, {"id": "big", "text": ENGLISH * 20}],
    )
    index_dir = tmp_path / "index"
    argv = ["build", "--source", str(path), "--index", str(index_dir)]
    assert main([*argv, "--max-article-mb", "0.001", "--oversize", "skip"]) == 0
    out, err = capsys.readouterr()
    assert f"warning: {path}:2: article is 0.0 MB, over the 0.001 MB limit" in err
    assert "articles:    1\n" in out


def test_neighbours_of_a_truncated_article_are_indexed(tmp_path: Path, build: BuildFn) -> None:
    path = write_lines(
        tmp_path / "in.jsonl",
        [
            {"id": "before", "text": ENGLISH},
            {"id": "big", "text": long_article(40)},
            {"id": "after", "text": SPANISH},
        ],
    )
    report = build(
        [path], tmp_path / "index", translation="off", size_limit=SizeLimit(max_mb=0.002)
    )
    generation = GenerationPaths(report.generation_dir)
    articles = {a.id: a for a in read_articles_store(generation)}
    assert list(articles) == ["before", "big", "after"]
    assert len(articles["big"].text.encode()) <= 2000
    assert [(p.location, p.skipped) for p in report.problems] == [(f"{path}:2", False)]
    assert report.manifest.warnings == 1


# --- chunking a long article --------------------------------------------------------------


def test_a_long_article_runs_langdetect_per_language_change_not_per_paragraph(
    tmp_path: Path,
    encoder: Encoder,
    langdetect_runs: list[str],
) -> None:
    text = long_article(60)  # 75 paragraphs, ~30 kB: en, es, en
    path = write_lines(tmp_path / "in.jsonl", [{"id": "long", "text": text}])
    progress = RecordingProgress()
    options = BuildOptions(
        sources=(path,),
        index_dir=tmp_path / "index",
        model_ref=encoder.model_ref,
        translation="off",
    )
    report = build_index(options, encoder=encoder, progress=progress)

    passages = read_passages_store(GenerationPaths(report.generation_dir))
    languages = [p.lang for p in passages]
    changes = sum(a != b for a, b in itertools.pairwise(languages))
    assert (languages[0], changes, languages[-1]) == ("en", 2, "en")
    for passage in passages:
        spanish = "Párrafo" in text[passage.start : passage.end]
        assert spanish == (passage.lang == "es"), passage
    # langdetect runs twice (six languages, then en/es) for the article and for each
    # of the two changes; once per paragraph and per passage it was 182 runs.
    assert len(langdetect_runs) <= 6

    total, advances = progress.stages["chunking"]
    assert total == len(text)
    assert sum(advances) == total
