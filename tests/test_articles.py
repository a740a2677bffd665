"""Reading articles: folders of .txt/.md, JSONL, every kind of bad input, and titles.

Pure and fast: no model, no index. The bad-input corpus built here is reused by the
build and command-line tests (`write_bad_corpus`), so one list of known problems
is checked at every level.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from indexer.articles import Article, InputProblem, read_articles
from indexer.titles import MAX_TITLE_CHARS, derive_title, leading_date

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

GOOD_TEXT = (
    "The city council approved a new budget for public libraries on Thursday. "
    "The plan adds evening hours and a mobile library for rural villages.\n"
)
NESTED_MD = (
    "# Bakery wins regional bread prize\n\n"
    "A small bakery on Elm Street won the regional prize for its sourdough loaf. "
    "The owners said the recipe came from a grandmother in Oaxaca.\n"
)


def make_unreadable(path: Path) -> None:
    """A `.txt` path that exists, looks like a file and fails to read.

    As an ordinary user `chmod 000` does it; root reads through permissions, so
    there the file is a link to /proc/self/mem, whose first page is unmapped (EIO).
    That only works for a file named as a source of its own: inside a source
    folder a link out of the folder is never followed.
    """
    if os.geteuid() != 0:
        path.write_text("secret", encoding="utf-8")
        path.chmod(0)
    elif Path("/proc/self/mem").exists():
        path.symlink_to("/proc/self/mem")
    else:  # pragma: no cover - root without procfs
        pytest.skip("cannot make an unreadable file as root without /proc")


@dataclass(frozen=True)
class BadCorpus:
    folder: Path
    unreadable: Path  # a .txt file named as a source of its own
    jsonl: Path
    missing: Path
    good_ids: frozenset[str]
    skipped_locations: frozenset[str]  # each skipped input, as "path" or "path:line"
    warning_locations: frozenset[str]  # kept, with a warning

    @property
    def sources(self) -> list[Path]:
        return [self.folder, self.unreadable, self.jsonl, self.missing]


def write_bad_corpus(root: Path) -> BadCorpus:
    """Five good articles among eighteen bad inputs of every kind, and one warning."""
    folder = root / "corpus"
    (folder / "sub" / "deep").mkdir(parents=True)
    (folder / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (folder / "sub" / "deep" / "nested.md").write_text(NESTED_MD, encoding="utf-8")
    (folder / "notes.csv").write_text("not,an,article\n", encoding="utf-8")  # ignored
    (folder / "binary.txt").write_bytes(b"PK\x03\x04\x00\x00binary\x00data")
    (folder / "latin1.txt").write_bytes(b"First line is fine.\nCaf\xe9 con leche, se\xf1or.\n")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("   \n\n\t\n", encoding="utf-8")
    (folder / "passwd.txt").symlink_to("/etc/passwd")  # out of the folder
    (folder / "etc").symlink_to("/etc")  # a folder out of the folder
    (folder / "loop.txt").symlink_to("loop.txt")
    os.mkfifo(folder / "pipe.txt")
    unreadable = root / "unreadable.txt"
    make_unreadable(unreadable)

    jsonl = root / "articles.jsonl"
    lines: list[bytes] = [
        json.dumps(
            {
                "id": "j1",
                "text": "The river flooded the old town after three days of rain.",
                "title": "River floods old town",
                "lang": "EN",
                "date": "2024-03-05T10:00:00Z",
                "source": "Wire",
                "url": "https://example.com/flood",
            }
        ).encode(),
        b'{"id": "j2", "text": "unterminated',  # 2: malformed JSON
        json.dumps({"text": "An article without an id."}).encode(),  # 3
        json.dumps({"id": "j4", "title": "No text"}).encode(),  # 4
        b"",  # 5: a blank line is not a problem
        json.dumps({"id": "j1", "text": "A second article claiming id j1."}).encode(),  # 6
        b"[1, 2, 3]",  # 7: not an object
        json.dumps({"id": "j8", "text": "   \n  "}).encode(),  # 8: empty
        b'{"id": "j9", "text": "caf\xe9"}',  # 9: invalid UTF-8
        json.dumps({"id": "good.txt", "text": "Same id as a file in the folder."}).encode(),
        json.dumps({"id": 42, "text": "Integer ids are accepted as strings."}).encode(),
        json.dumps(
            {"id": "j12", "text": "A dated article with a date nobody can read.", "date": "soon"}
        ).encode(),  # 12: kept, the date is ignored with a warning
    ]
    jsonl.write_bytes(b"\n".join(lines) + b"\n")

    missing = root / "does-not-exist"
    skipped = {
        str(folder / name)
        for name in ("binary.txt", "empty.txt", "blank.md", "passwd.txt", "etc", "loop.txt")
    }
    skipped |= {str(folder / "pipe.txt"), str(unreadable), f"{folder / 'latin1.txt'}:2"}
    skipped |= {f"{jsonl}:{line}" for line in (2, 3, 4, 6, 7, 8, 9, 10)}
    skipped.add(str(missing))
    return BadCorpus(
        folder=folder,
        unreadable=unreadable,
        jsonl=jsonl,
        missing=missing,
        good_ids=frozenset({"good.txt", "sub/deep/nested.md", "j1", "42", "j12"}),
        skipped_locations=frozenset(skipped),
        warning_locations=frozenset({f"{jsonl}:12"}),
    )


def _split(items: list[Article | InputProblem]) -> tuple[list[Article], list[InputProblem]]:
    articles = [i for i in items if isinstance(i, Article)]
    problems = [i for i in items if isinstance(i, InputProblem)]
    return articles, problems


# --- good input -----------------------------------------------------------------


def test_folder_is_read_recursively_with_relative_path_ids(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "top.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (tmp_path / "a" / "b" / "deep.md").write_text(NESTED_MD, encoding="utf-8")
    (tmp_path / "a" / "skip.json").write_text("{}", encoding="utf-8")
    articles, problems = _split(list(read_articles([tmp_path])))
    assert problems == []
    assert sorted(a.id for a in articles) == ["a/b/deep.md", "top.txt"]
    by_id = {a.id: a for a in articles}
    assert by_id["top.txt"].text == GOOD_TEXT
    assert by_id["a/b/deep.md"].title == "Bakery wins regional bread prize"
    assert by_id["top.txt"].origin == str(tmp_path / "top.txt")


def test_single_text_file_source_uses_its_name_as_id(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text(GOOD_TEXT, encoding="utf-8")
    (article,) = read_articles([path])
    assert isinstance(article, Article)
    assert article.id == "story.txt"


def test_utf8_bom_is_not_part_of_the_text(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes("\ufeffÁrbol caído en la avenida".encode())
    (article,) = read_articles([tmp_path])
    assert isinstance(article, Article)
    assert article.text == "Árbol caído en la avenida"


def test_jsonl_required_and_optional_fields(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    records = [
        {
            "id": "x1",
            "text": "El huracán tocó tierra cerca de Acapulco.",
            "title": "  Huracán en Acapulco ",
            "lang": "ES",
            "date": "2023-10-25T06:25:00-06:00",
            "source": "Agencia",
            "url": "https://example.com/huracan",
        },
        {"id": "x2", "text": "Minimal record with only the required fields."},
        {"id": "x3", "text": "A plain date.", "date": "2021-02-03"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    articles, problems = _split(list(read_articles([path])))
    assert problems == []
    first, second, third = articles
    assert first == Article(
        id="x1",
        title="Huracán en Acapulco",
        text="El huracán tocó tierra cerca de Acapulco.",
        origin=f"{path}:1",
        lang_hint="es",
        date="2023-10-25",
        source="Agencia",
        url="https://example.com/huracan",
    )
    assert second.id == "x2"
    assert second.title  # derived from the text
    assert (second.lang_hint, second.date, second.source, second.url) == (None, None, None, None)
    assert third.date == "2021-02-03"


def test_jsonl_underscore_id_is_accepted(tmp_path: Path) -> None:
    """BEIR-style corpora (like the XQuAD evaluation set) name the id `_id`."""
    path = tmp_path / "corpus.jsonl"
    path.write_text(json.dumps({"_id": "en-000-00", "text": "Some text."}) + "\n")
    (article,) = read_articles([path])
    assert isinstance(article, Article)
    assert article.id == "en-000-00"


# --- bad input ------------------------------------------------------------------


def test_every_bad_input_is_reported_with_its_location_and_skipped(tmp_path: Path) -> None:
    corpus = write_bad_corpus(tmp_path)
    articles, problems = _split(list(read_articles(corpus.sources)))

    assert {a.id for a in articles} == corpus.good_ids
    skipped = {p.location for p in problems if p.skipped}
    warnings = {p.location for p in problems if not p.skipped}
    assert skipped == corpus.skipped_locations
    assert warnings == corpus.warning_locations
    assert len(problems) == len(skipped) + len(warnings)  # one problem per bad input


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("binary.txt", "binary"),
        ("latin1.txt:2", "invalid UTF-8"),
        ("empty.txt", "empty"),
        ("blank.md", "empty"),
        ("unreadable.txt", "unreadable"),
        ("passwd.txt", "symbolic link to /etc/passwd, outside the source folder"),
        ("etc", "symbolic link to /etc, outside the source folder"),
        ("loop.txt", "symbolic link loop"),
        ("pipe.txt", "not a regular file but a FIFO"),
        (":2", "malformed JSON"),
        (":3", "'id'"),
        (":4", "'text'"),
        (":6", "duplicate article id 'j1'"),
        (":7", "JSON object"),
        (":8", "empty"),
        (":9", "invalid UTF-8"),
        (":10", "duplicate article id 'good.txt'"),
        (":12", "'date'"),
        ("does-not-exist", "does not exist"),
    ],
)
def test_problem_messages_say_what_is_wrong(tmp_path: Path, where: str, reason: str) -> None:
    corpus = write_bad_corpus(tmp_path)
    problems = [p for p in read_articles(corpus.sources) if isinstance(p, InputProblem)]
    if where.startswith(":"):
        location = f"{corpus.jsonl}{where}"
    elif where == "does-not-exist":
        location = str(corpus.missing)
    elif where == "unreadable.txt":
        location = str(corpus.unreadable)
    else:
        location = str(corpus.folder / where)
    (problem,) = [p for p in problems if p.location == location]
    assert reason in problem.reason
    assert str(problem).startswith(f"{location}: ")
    assert str(problem).endswith("(kept)" if where == ":12" else "(skipped)")


def test_duplicate_id_message_points_at_the_first_occurrence(tmp_path: Path) -> None:
    corpus = write_bad_corpus(tmp_path)
    (problem,) = [
        p
        for p in read_articles(corpus.sources)
        if isinstance(p, InputProblem) and p.location == f"{corpus.jsonl}:10"
    ]
    assert str(corpus.folder / "good.txt") in problem.reason


def test_first_of_duplicate_ids_is_kept(tmp_path: Path) -> None:
    corpus = write_bad_corpus(tmp_path)
    articles = [a for a in read_articles(corpus.sources) if isinstance(a, Article)]
    by_id = {a.id: a for a in articles}
    assert by_id["j1"].text.startswith("The river flooded")
    assert by_id["good.txt"].text == GOOD_TEXT


def test_unsupported_file_type_as_source_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_text("a,b\n", encoding="utf-8")
    (problem,) = read_articles([path])
    assert isinstance(problem, InputProblem)
    assert problem.location == str(path)
    assert ".jsonl" in problem.reason


def test_invalid_utf8_reports_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"one\ntwo\nthree \xff four\n")
    (problem,) = read_articles([path])
    assert isinstance(problem, InputProblem)
    assert problem.location == f"{path}:3"


def test_deeply_nested_json_is_a_bad_line_and_its_neighbours_are_read(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    deep_field = {"id": "deep", "text": "Valid but deep.", "extra": "[" * 5000 + "]" * 5000}
    lines = [
        json.dumps({"id": "before", "text": GOOD_TEXT}),
        "[" * 2000,  # unterminated
        json.dumps(deep_field).replace('"[[', "[[").replace(']]"', "]]"),  # valid JSON
        json.dumps({"id": "after", "text": GOOD_TEXT}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles, problems = _split(list(read_articles([path])))
    assert [a.id for a in articles] == ["before", "after"]
    assert [(p.location, p.reason) for p in problems] == [
        (f"{path}:2", "JSON nested too deeply to read"),
        (f"{path}:3", "JSON nested too deeply to read"),
    ]


def test_lone_surrogate_escapes_make_a_bad_line_and_its_neighbours_are_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.jsonl"
    record = {
        "id": "s\ud800",
        "text": "Half a pair \udc00 in the text, " + GOOD_TEXT,
        "title": "Title \ud83d",
        "source": "Wire \udfff",
    }
    pair = {"id": "emoji", "text": "A whole pair is fine: \U0001f600. " + GOOD_TEXT}
    lines = [json.dumps(record), json.dumps(pair)]  # ensure_ascii: "\\ud800" escapes
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles, problems = _split(list(read_articles([path])))
    assert [a.id for a in articles] == ["emoji"]
    assert "\U0001f600" in articles[0].text
    (problem,) = problems
    assert problem.location == f"{path}:1"
    assert problem.reason == "lone UTF-16 surrogate escape(s) in 'id', 'text', 'title', 'source'"
    assert problem.skipped


# --- links and special files in a folder -----------------------------------------------


def _problems_by_location(items: list[Article | InputProblem]) -> dict[str, str]:
    return {p.location: p.reason for p in items if isinstance(p, InputProblem)}


def test_links_out_of_the_folder_are_reported_and_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nTOP-SECRET-MARKER", encoding="utf-8")
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "secret.md").symlink_to(outside / "secret.md")
    (folder / "sub" / "relative.md").symlink_to("../../outside/secret.md")
    (folder / "up").symlink_to("..")
    (folder / "sub" / "notes.csv").symlink_to("/etc/passwd")  # not an article name: ignored

    items = list(read_articles([folder]))
    articles, _ = _split(items)
    assert [a.id for a in articles] == ["good.txt"]
    assert not any("SECRET" in a.text or "root:" in a.text for a in articles)
    problems = _problems_by_location(items)
    assert set(problems) == {
        str(folder / "passwd.txt"),
        str(folder / "secret.md"),
        str(folder / "sub" / "relative.md"),
        str(folder / "up"),
    }
    assert problems[str(folder / "passwd.txt")] == (
        "symbolic link to /etc/passwd, outside the source folder; not followed"
    )
    assert problems[str(folder / "up")].startswith(f"symbolic link to {tmp_path}, outside")


def test_links_inside_the_folder_are_followed_to_files_but_not_to_folders(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "corpus"
    (folder / "archive").mkdir(parents=True)
    (folder / "archive" / "2024.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (folder / "latest.txt").symlink_to("archive/2024.txt")
    (folder / "mirror").symlink_to("archive")
    (folder / "archive" / "again").symlink_to("..")  # would loop if followed

    items = list(read_articles([folder]))
    articles, _ = _split(items)
    assert [(a.id, a.origin) for a in articles] == [
        ("archive/2024.txt", str(folder / "archive" / "2024.txt")),
        ("latest.txt", str(folder / "latest.txt")),
    ]
    assert articles[1].text == GOOD_TEXT
    problems = _problems_by_location(items)
    assert set(problems) == {str(folder / "mirror"), str(folder / "archive" / "again")}
    assert "not followed (read where it is)" in problems[str(folder / "mirror")]


def test_link_loops_and_broken_links_are_reported(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").symlink_to("b.txt")
    (folder / "b.txt").symlink_to("a.txt")
    (folder / "gone.md").symlink_to("nowhere.md")
    problems = _problems_by_location(list(read_articles([folder])))
    assert problems == {
        str(folder / "a.txt"): problems[str(folder / "a.txt")],
        str(folder / "b.txt"): problems[str(folder / "b.txt")],
        str(folder / "gone.md"): "broken symbolic link to nowhere.md",
    }
    assert problems[str(folder / "a.txt")].startswith("symbolic link loop")


def test_a_fifo_is_reported_and_never_opened(tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes: it must not be opened."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    os.mkfifo(folder / "pipe.txt")
    (problem,) = read_articles([folder])
    assert problem == InputProblem(
        str(folder / "pipe.txt"), "not a regular file but a FIFO (named pipe)"
    )
    (named,) = read_articles([folder / "pipe.txt"])  # named as a source: opened, never blocks
    assert isinstance(named, InputProblem)
    assert named.reason == "unreadable: not a regular file"


def test_a_source_folder_given_through_a_link_is_read(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (real / "alias.txt").symlink_to(real / "good.txt")  # absolute, inside the real folder
    link = tmp_path / "link"
    link.symlink_to(real)
    articles, problems = _split(list(read_articles([link])))
    assert problems == []
    assert [(a.id, a.origin) for a in articles] == [
        ("alias.txt", str(link / "alias.txt")),
        ("good.txt", str(link / "good.txt")),
    ]


# --- titles and dates -------------------------------------------------------------


def test_seed_titles_are_headlines_not_photo_credits() -> None:
    articles, problems = _split(list(read_articles([SEEDS])))
    assert problems == []
    assert len(articles) == len(list(SEEDS.glob("*.txt"))) >= 5
    for article in articles:
        title = article.title
        assert 20 <= len(title) <= MAX_TITLE_CHARS + 1, title
        lowered = title.lower()
        for credit in ("photo", "foto", "editorial use", "cuartoscuro", "courtesy"):
            assert credit not in lowered, (article.id, title)
        assert not title.startswith(("date", "(", "Mexico, Jul")), (article.id, title)
        first_words = " ".join(title.rstrip("…").split()[:4])
        assert first_words in " ".join(article.text.split()), (article.id, title)


def test_seed_titles_golden() -> None:
    titles = {a.id: a.title for a in read_articles([SEEDS]) if isinstance(a, Article)}
    assert titles["004_59ff69fff0e8114d.txt"] == (
        "Mexico’s Security Chief Discusses Aggressive Cartel Strategy"
    )
    # Photo credit line and the "Mexico, Jul 28 . .-" dateline are both skipped.
    assert titles["000_c9162dfe2f9bb3bf.txt"].startswith(
        "The Secretary of Security of Mexico City, Omar García Harfuch"
    )
    assert titles["002_91e29a3c676e40f0.txt"].startswith("Mexico City’s former top law")


def test_seed_leading_date_marker_becomes_the_article_date() -> None:
    dates = {a.id: a.date for a in read_articles([SEEDS]) if isinstance(a, Article)}
    assert dates["002_91e29a3c676e40f0.txt"] == "2023-12-19"
    assert dates["004_59ff69fff0e8114d.txt"] is None


def test_markdown_heading_is_the_title() -> None:
    text = "Intro paragraph that is long enough to be a title candidate.\n\n## The Real Heading\n"
    assert derive_title(text, markdown=True) == "The Real Heading"
    # In a .txt file a '#' line is just text.
    assert derive_title(text, markdown=False).startswith("Intro paragraph")


def test_credit_line_then_headline() -> None:
    text = (
        "Foto: Juan Pérez / Reuters\n\n"
        "Inundaciones dejan miles de damnificados en Tabasco\n\n"
        "Las lluvias de la última semana desbordaron tres ríos."
    )
    assert (
        derive_title(text, markdown=False) == "Inundaciones dejan miles de damnificados en Tabasco"
    )


def test_long_first_sentence_is_cut_at_a_word_boundary() -> None:
    sentence = " ".join(["extraordinarily"] * 30) + "."
    title = derive_title(sentence, markdown=False)
    assert title.endswith("…")
    assert len(title) <= MAX_TITLE_CHARS + 1
    assert set(title.rstrip("…").split()) == {"extraordinarily"}


def test_text_without_letters_gets_a_title() -> None:
    assert derive_title("12345 --- 678", markdown=False) == "12345 --- 678"
    assert derive_title("  \n ", markdown=False) == "(untitled)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date 2023-12-19 Body", "2023-12-19"),
        ("  Fecha: 2020-01-02\nCuerpo", "2020-01-02"),
        ("date 2023-02-30 not a real day", None),
        ("Body mentioning date 2023-12-19 later", None),
    ],
)
def test_leading_date(text: str, expected: str | None) -> None:
    found = leading_date(text)
    assert (found.isoformat() if found else None) == expected
