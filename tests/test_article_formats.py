"""Articles as people keep them: .txt, .md with front matter and a heading, saved
web pages (.html/.htm), JSONL.

Each format is read from real files in a temp folder through `read_articles`, the
entry point the build uses, and HTML through the real trafilatura, offline. No
model: the one end-to-end test builds a real index with the hashing encoder of
`tests/fake_encoder.py` and searches it with the real engine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from indexer.articles import Article, InputProblem, read_articles
from indexer.chunking import ChunkingOptions, chunk_text
from search.engine import SearchEngine
from search.models import SearchRequest
from tests.fake_encoder import FakeEncoder, build_fake_index

pytestmark = pytest.mark.fast

BODY = (
    "Heavy rain flooded the lower town of Villahermosa on Tuesday night. "
    "Firefighters rescued forty families from their roofs.\n\n"
    "The river rose two metres in six hours, the water authority said.\n"
)
FRONT_MATTER = (
    "---\n"
    "title: Floods in Villahermosa\n"
    "date: 2024-03-05\n"
    "source: Diario del Sur\n"
    "url: https://example.com/floods\n"
    "lang: EN\n"
    "tags: [weather, tabasco]\n"
    "---\n"
)
KEYS = re.compile(r"^\s*(title|date|source|url|lang|tags)\s*:", re.MULTILINE)


def _read(*sources: Path) -> tuple[dict[str, Article], list[InputProblem]]:
    items = list(read_articles(sources))
    articles = {i.id: i for i in items if isinstance(i, Article)}
    problems = [i for i in items if isinstance(i, InputProblem)]
    return articles, problems


def _write(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def _words(texts: Sequence[str]) -> list[int]:
    return [len(text.split()) for text in texts]


# --- Markdown ------------------------------------------------------------------------


def test_markdown_front_matter_is_metadata_and_the_heading_is_the_title(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "news/floods.md", FRONT_MATTER + "\n# Rain floods the lower town\n\n" + BODY
    )
    articles, problems = _read(tmp_path)
    assert problems == []
    assert articles == {
        "news/floods.md": Article(
            id="news/floods.md",
            title="Floods in Villahermosa",  # front matter wins over the heading
            text=BODY,  # starts after the heading: no front matter, no title line
            origin=str(path),
            lang_hint="en",
            date="2024-03-05",
            source="Diario del Sur",
            url="https://example.com/floods",
        )
    }


def test_a_leading_heading_is_the_title_and_not_text(tmp_path: Path) -> None:
    _write(tmp_path, "a.md", "\n#  Rain floods the lower town  #\n\n\n" + BODY)
    _write(tmp_path, "b.md", "## A second-level heading opens it\n" + BODY)
    articles, problems = _read(tmp_path)
    assert problems == []
    assert (articles["a.md"].title, articles["a.md"].text) == ("Rain floods the lower town", BODY)
    assert (articles["b.md"].title, articles["b.md"].text) == (
        "A second-level heading opens it",
        BODY,
    )


def test_passage_offsets_index_the_text_after_the_title(tmp_path: Path) -> None:
    """Passages are slices of `Article.text`; the first one opens the body, so the
    heading and the front matter never reach a snippet."""
    _write(tmp_path, "floods.md", FRONT_MATTER + "# Rain floods the lower town\n\n" + BODY * 6)
    articles, _ = _read(tmp_path)
    text = articles["floods.md"].text
    spans = chunk_text(
        text, count_tokens=_words, options=ChunkingOptions(max_tokens=30, overlap_tokens=0)
    )
    assert len(spans) > 1
    assert spans[0].start == 0
    assert text[spans[0].start : spans[0].end].startswith("Heavy rain flooded")
    for span in spans:
        passage = text[span.start : span.end]
        assert "#" not in passage and "---" not in passage and not KEYS.search(passage)


def test_markdown_without_a_leading_heading_keeps_its_text(tmp_path: Path) -> None:
    content = "Intro paragraph before any heading, long enough.\n\n## Later heading\n\n" + BODY
    _write(tmp_path, "a.md", content)
    articles, _ = _read(tmp_path)
    assert articles["a.md"].text == content
    assert articles["a.md"].title == "Later heading"  # the first heading, as before


def test_a_heading_too_long_for_a_title_stays_in_the_text(tmp_path: Path) -> None:
    heading = "# " + " ".join(["word"] * 40) + "\n\n"
    _write(tmp_path, "a.md", heading + BODY)
    articles, _ = _read(tmp_path)
    assert articles["a.md"].text == heading + BODY
    assert articles["a.md"].title.endswith("…")


def test_a_pathological_first_line_is_text_and_read_at_once(tmp_path: Path) -> None:
    """A heading pattern with nested repeats took minutes on lines like these."""
    lines = ["# a" + " " * 200_000 + "#" * 200_000 + "x\n", "# a" + " " * 200_000 + "b\n"]
    for number, line in enumerate(lines):
        _write(tmp_path, f"{number}.md", line + BODY)
    articles, problems = _read(tmp_path)
    assert problems == []
    assert [articles[f"{n}.md"].text for n in range(2)] == [line + BODY for line in lines]


# --- plain text ------------------------------------------------------------------------


def test_text_files_read_front_matter_but_a_hash_line_is_text(tmp_path: Path) -> None:
    _write(tmp_path, "a.txt", FRONT_MATTER + "# not a heading in plain text\n" + BODY)
    articles, problems = _read(tmp_path)
    assert problems == []
    article = articles["a.txt"]
    assert article.text == "# not a heading in plain text\n" + BODY
    assert (article.title, article.date, article.source) == (
        "Floods in Villahermosa",
        "2024-03-05",
        "Diario del Sur",
    )


def test_text_without_front_matter_is_read_exactly_as_before(tmp_path: Path) -> None:
    """What existing indexes hold (text, offsets, title, date) does not move."""
    content = "date 2023-12-19 Mexico City police arrested two men.\n\n" + BODY
    _write(tmp_path, "plain.txt", content)
    articles, _ = _read(tmp_path)
    article = articles["plain.txt"]
    assert (article.text, article.date) == (content, "2023-12-19")
    assert article.title.startswith("Mexico City police arrested two men")
    assert (article.source, article.url, article.lang_hint) == (None, None, None)


def test_a_front_matter_date_wins_over_a_leading_date_marker(tmp_path: Path) -> None:
    _write(tmp_path, "a.txt", "---\ndate: 2024-01-02\n---\ndate 2023-12-19 " + BODY)
    _write(tmp_path, "b.txt", "---\ntitle: Only a title\n---\ndate 2023-12-19 " + BODY)
    articles, _ = _read(tmp_path)
    assert (articles["a.txt"].date, articles["b.txt"].date) == ("2024-01-02", "2023-12-19")


# --- bad front matter ---------------------------------------------------------------------


def test_broken_yaml_is_reported_at_its_line_and_the_article_is_kept(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "a.md", "---\ntitle: Floods\nsource: Diario: del Sur\n---\n# Heading\n\n" + BODY
    )
    articles, problems = _read(tmp_path)
    (problem,) = problems
    assert problem.location == f"{path}:3"  # the line with the second colon
    assert "front matter is not valid YAML" in problem.reason
    assert not problem.skipped
    article = articles["a.md"]
    assert (article.title, article.text, article.source) == ("Heading", BODY, None)


@pytest.mark.parametrize(
    ("field_line", "expected"),
    [
        ("date: 2024-02-30", "'date' '2024-02-30' is not an ISO 8601 date"),
        ("date: next Tuesday", "'date' 'next Tuesday' is not an ISO 8601 date"),
        ("date: 20240305", "'date' 20240305 is not an ISO 8601 date"),
        ("date: 1492-10-12", "in 1678..2261"),
        ("source: [a, b]", "'source' must be a string, not list"),
        ("url: {href: x}", "'url' must be a string, not dict"),
        ("lang: 3", "'lang' must be a string, not int"),
        ('source: "Wire \\ud800"', "lone UTF-16 surrogate in 'source'"),
    ],
)
def test_a_bad_field_is_reported_at_its_line_and_ignored(
    tmp_path: Path, field_line: str, expected: str
) -> None:
    path = _write(tmp_path, "a.md", f"---\ntitle: Kept title\n\n{field_line}\n---\n" + BODY)
    articles, problems = _read(tmp_path)
    (problem,) = problems
    assert (problem.location, problem.skipped) == (f"{path}:4", False)
    assert expected in problem.reason and problem.reason.endswith("; ignored")
    article = articles["a.md"]
    assert (article.title, article.text) == ("Kept title", BODY)
    field = field_line.split(":")[0]
    assert getattr(article, "lang_hint" if field == "lang" else field) is None


def test_a_title_that_is_not_text_falls_back_to_the_heading(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.md", "---\ntitle: 1984\n---\n# Nineteen Eighty-Four\n" + BODY)
    articles, problems = _read(tmp_path)
    assert [(p.location, p.reason) for p in problems] == [
        (f"{path}:2", "'title' must be a string, not int; ignored")
    ]
    assert articles["a.md"].title == "Nineteen Eighty-Four"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("only-front-matter.md", FRONT_MATTER, "no text after the front matter"),
        ("only-front-matter.txt", FRONT_MATTER + "\n  \n", "no text after the front matter"),
        ("only-title.md", "# A title and nothing else\n\n", "no text after the title"),
        ("both.md", FRONT_MATTER + "# A title\n", "no text after the title"),
    ],
)
def test_a_file_with_no_text_left_is_skipped_and_its_neighbours_read(
    tmp_path: Path, name: str, content: str, reason: str
) -> None:
    path = _write(tmp_path, name, content)
    _write(tmp_path, "neighbour.md", FRONT_MATTER + BODY)
    articles, problems = _read(tmp_path)
    assert list(articles) == ["neighbour.md"]
    assert problems == [InputProblem(str(path), reason)]


def test_a_block_that_is_not_keys_and_values_is_read_as_text(tmp_path: Path) -> None:
    """A Markdown file may open with a thematic break: a sentence between two rules
    is text, kept whole, with a warning in case front matter was meant."""
    content = "---\nA sentence between two rules\n---\n" + BODY
    path = _write(tmp_path, "a.md", content)
    articles, problems = _read(tmp_path)
    assert articles["a.md"].text == content
    (problem,) = problems
    assert (problem.location, problem.skipped) == (f"{path}:1", False)
    assert "is plain text, not front matter" in problem.reason


def test_a_block_with_none_of_the_known_keys_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.md", "---\nMexico City: the mayor said so\n---\n" + BODY)
    articles, problems = _read(tmp_path)
    assert articles["a.md"].text == BODY
    (problem,) = problems
    assert (problem.location, problem.skipped) == (f"{path}:1", False)
    assert "none of the keys title, date, source, url, lang" in problem.reason
    assert "'Mexico City'" in problem.reason


@pytest.mark.parametrize(
    "front_matter",
    [
        FRONT_MATTER,
        "---\ntitle: [unclosed\ndate: 2024-01-01\n---\n",  # broken YAML
        "---\ntitle: ok\ndate: tomorrow\ntags: x\n---\n",  # a bad date
        "---\n\ntitle: !!python/object:os.system x\n---\n",  # an unsafe tag
        "---\ntitle: a\x01b\n---\n",  # a control character YAML refuses
        "---\nlayout: post\n---\n",  # none of the known keys
        "---\r\ntitle: Windows line ends\r\n---\r\n",
        "---\ndate: " + "[" * 2000 + "\n---\n",  # too deep for the parser
    ],
)
@pytest.mark.parametrize("name", ["a.md", "a.txt"])
def test_front_matter_never_reaches_the_text(tmp_path: Path, front_matter: str, name: str) -> None:
    _write(tmp_path, name, front_matter + BODY)
    articles, problems = _read(tmp_path)
    assert articles[name].text.replace("\r\n", "\n") == BODY
    assert all(not p.skipped for p in problems)
    assert all(p.location.startswith(str(tmp_path / name) + ":") for p in problems)


def test_a_lone_rule_at_the_top_is_text(tmp_path: Path) -> None:
    content = "---\n" + BODY
    _write(tmp_path, "a.md", content)
    articles, problems = _read(tmp_path)
    assert (articles["a.md"].text, problems) == (content, [])


def test_a_markdown_file_named_as_a_source_is_read_the_same_way(tmp_path: Path) -> None:
    path = _write(tmp_path, "floods.md", FRONT_MATTER + "# Heading\n" + BODY)
    (article,) = read_articles([path])
    assert isinstance(article, Article)
    assert (article.id, article.title, article.text) == (
        "floods.md",
        "Floods in Villahermosa",
        BODY,
    )


# --- HTML -----------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<title>Inundaciones en Tabasco | Diario del Sur</title>
<meta property="og:site_name" content="Diario del Sur">
<meta property="og:title" content="Inundaciones dejan miles de damnificados en Tabasco">
<meta property="article:published_time" content="2024-03-05T10:00:00-06:00">
<link rel="canonical" href="https://example.com/tabasco">
</head>
<body>
<nav><a href="/">Inicio</a> <a href="/deportes">Deportes</a></nav>
<article>
<h1>Inundaciones dejan miles de damnificados en Tabasco</h1>
<p>Las lluvias de la última semana desbordaron tres ríos en el sur del estado.</p>
<p>Las autoridades abrieron albergues en escuelas y pidieron no cruzar los puentes.</p>
</article>
<div id="comments"><ol class="comment-list"><li class="comment">
<p>Comentario de un lector: ¡qué horror, ojalá ayuden pronto a las familias!</p></li></ol></div>
<footer>© 2024 Diario del Sur. Todos los derechos reservados.</footer>
</body></html>
"""
PAGE_TEXT = (
    "Las lluvias de la última semana desbordaron tres ríos en el sur del estado.\n\n"
    "Las autoridades abrieron albergues en escuelas y pidieron no cruzar los puentes."
)


def test_an_html_page_gives_its_main_text_title_date_site_and_url(tmp_path: Path) -> None:
    path = _write(tmp_path, "web/tabasco.html", PAGE)
    articles, problems = _read(tmp_path)
    assert problems == []
    assert articles == {
        "web/tabasco.html": Article(
            id="web/tabasco.html",
            title="Inundaciones dejan miles de damnificados en Tabasco",
            text=PAGE_TEXT,  # no menu, no <h1> repeated, no footer, no reader comments
            origin=str(path),
            date="2024-03-05",
            source="Diario del Sur",
            url="https://example.com/tabasco",
        )
    }


def test_front_matter_in_an_html_file_wins_over_the_page(tmp_path: Path) -> None:
    front = "---\nsource: Archivo propio\ndate: 2020-01-02\nlang: es\n---\n"
    _write(tmp_path, "a.htm", front + PAGE)
    articles, problems = _read(tmp_path)
    assert problems == []
    article = articles["a.htm"]
    assert (article.source, article.date, article.lang_hint) == (
        "Archivo propio",
        "2020-01-02",
        "es",
    )
    assert (article.url, article.text) == ("https://example.com/tabasco", PAGE_TEXT)
    assert "Archivo" not in article.text


def test_a_bad_front_matter_field_in_html_is_reported_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.html", "---\ntitle: Mine\ndate: someday\n---\n" + PAGE)
    articles, problems = _read(tmp_path)
    assert [(p.location, p.skipped) for p in problems] == [(f"{path}:3", False)]
    article = articles["a.html"]
    assert (article.title, article.date) == ("Mine", "2024-03-05")  # the page's date instead


def test_an_html_page_decodes_by_its_declared_charset(tmp_path: Path) -> None:
    page = (
        "<html><head><meta charset='iso-8859-1'><title>Café</title></head><body><article>"
        "<p>Un café con leche en la plaza mayor, señor, y la cuenta por favor.</p>"
        "</article></body></html>"
    )
    (tmp_path / "latin1.html").write_bytes(page.encode("latin-1"))
    articles, problems = _read(tmp_path)
    assert problems == []
    assert articles["latin1.html"].text == (
        "Un café con leche en la plaza mayor, señor, y la cuenta por favor."
    )
    assert articles["latin1.html"].title == "Café"


def test_a_date_is_never_guessed_from_the_words_of_a_page(tmp_path: Path) -> None:
    page = (
        "<html><body><article><p>Published 12 March 2023.</p>"
        "<p>The river rose two metres in six hours, the water authority said.</p>"
        "</article><footer>(c) 2024 Diario</footer></body></html>"
    )
    _write(tmp_path, "a.html", page)
    articles, _ = _read(tmp_path)
    assert articles["a.html"].date is None
    assert "The river rose two metres" in articles["a.html"].text


@pytest.mark.parametrize(
    "page",
    [
        b"",
        b"<html><head><title>Nothing here</title></head><body></body></html>",
        b"<html><body><img src='a.png'><script>var words = 'not text';</script></body></html>",
        b"<html><head><title>Only a title</title></head><body><h1>Only a title</h1></body></html>",
        b"---\ntitle: Front matter and no page\n---\n",
    ],
    ids=["empty", "empty-body", "script-and-image", "title-only", "front-matter-only"],
)
def test_an_html_file_without_text_is_reported_and_skipped(tmp_path: Path, page: bytes) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(page)
    _write(tmp_path, "neighbour.html", PAGE)
    articles, problems = _read(tmp_path)
    assert list(articles) == ["neighbour.html"]
    assert problems == [InputProblem(str(path), "no text could be extracted from the HTML")]


def test_a_binary_file_named_html_is_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "image.html"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR and some letters")
    assert list(read_articles([tmp_path])) == [
        InputProblem(str(path), "binary file (contains NUL bytes)")
    ]


def test_an_html_page_saved_as_utf16_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(PAGE.replace("utf-8", "utf-16").encode("utf-16"))
    articles, problems = _read(tmp_path)
    assert problems == []
    assert articles["a.html"].text == PAGE_TEXT


def test_an_html_file_named_as_a_source_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "page.htm", PAGE)
    (article,) = read_articles([path])
    assert isinstance(article, Article)
    assert (article.id, article.text) == ("page.htm", PAGE_TEXT)


# --- every format in one index ------------------------------------------------------------


def test_a_folder_of_every_format_builds_and_searches(tmp_path: Path) -> None:
    """Through a real build and the real engine: titles and metadata as each file
    gives them, and neither front matter nor a title line in any snippet."""
    corpus = tmp_path / "corpus"
    _write(corpus, "floods.md", FRONT_MATTER + "# Rain floods the lower town\n\n" + BODY)
    _write(corpus, "plain.txt", "---\ntitle: River levels\nsource: Water Board\n---\n" + BODY)
    _write(corpus, "tabasco.html", PAGE)
    jsonl = tmp_path / "more.jsonl"
    record = {"id": "j1", "title": "Wire floods", "text": "Firefighters rescued families."}
    jsonl.write_text(json.dumps(record) + "\n", encoding="utf-8")
    encoder = FakeEncoder()
    report = build_fake_index([corpus, jsonl], tmp_path / "index", encoder=encoder)
    assert report.problems == []
    engine = SearchEngine(tmp_path / "index", encoder=encoder)

    response = engine.search(SearchRequest(query="firefighters", mode="lexical", limit=10))
    by_id = {r.article_id: r for r in response.results}
    assert set(by_id) == {"floods.md", "plain.txt", "j1"}
    assert by_id["floods.md"].title == "Floods in Villahermosa"
    assert (by_id["floods.md"].date, by_id["floods.md"].source) == ("2024-03-05", "Diario del Sur")
    assert (by_id["plain.txt"].title, by_id["plain.txt"].source) == ("River levels", "Water Board")
    for result in response.results:
        assert result.start == 0 or result.article_id == "j1"
        assert not KEYS.search(result.text) and "#" not in result.text and "---" not in result.text

    (page,) = engine.search(SearchRequest(query="albergues", mode="lexical")).results
    assert (page.article_id, page.source, page.url) == (
        "tabasco.html",
        "Diario del Sur",
        "https://example.com/tabasco",
    )
    for words in ("tags", "weather", "Inicio", "reservados", "horror"):  # metadata, menu, footer
        assert engine.search(SearchRequest(query=words, mode="lexical")).results == [], words


# --- the README's examples ---------------------------------------------------------------


def test_the_readme_examples_read_as_it_says(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Article formats\n", 1)[1].split("\n## ", 1)[0]
    names = {"text": "a.txt", "markdown": "b.md", "html": "c.html", "json": "d.jsonl"}
    examples = re.findall(r"```(text|markdown|html|json)\n(.*?)```", section, re.DOTALL)
    assert sorted(kind for kind, _ in examples) == sorted(names)
    for kind, example in examples:
        _write(tmp_path, names[kind], example)
    articles, problems = _read(*(tmp_path / name for name in sorted(names.values())))
    assert problems == []
    summary = {a.id: (a.title, a.date, a.source) for a in articles.values()}
    assert summary == {
        "a.txt": ("Flooding in Villahermosa", "2023-12-19", None),
        "b.md": ("Floods in Villahermosa", "2024-03-05", "Diario del Sur"),
        "c.html": ("Inundaciones en Tabasco", "2024-03-05", "Diario del Sur"),
        "wire-0042": ("River floods old town", "2024-03-05", "Wire"),
    }
    assert articles["b.md"].text.startswith("Heavy rain")
    assert articles["c.html"].text == "Las lluvias de la última semana desbordaron tres ríos."


# --- JSONL ---------------------------------------------------------------------------------


def test_jsonl_lines_are_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl"
    records = [
        {"id": "x1", "text": BODY, "title": "Floods", "date": "2024-03-05T10:00:00Z",
         "source": "Wire", "url": "https://example.com/x1", "lang": "ES"},
        {"id": "x2", "text": "# Not a title in JSONL\n" + BODY, "date": "soon", "title": 7},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    articles, problems = _read(path)
    assert articles["x1"] == Article(
        id="x1",
        title="Floods",
        text=BODY,
        origin=f"{path}:1",
        lang_hint="es",
        date="2024-03-05",
        source="Wire",
        url="https://example.com/x1",
    )
    assert articles["x2"].text.startswith("# Not a title")  # JSONL text is taken as given
    assert [(p.location, p.skipped) for p in problems] == [(f"{path}:2", False)] * 2
    assert {p.reason.split(" ")[0] for p in problems} == {"'title'", "'date'"}
