"""`python -m indexer build|info`: exit codes, messages, and the atomic switch.

Most commands run in-process through `indexer.cli.main` (the same code path as the
entry point, minus a second torch import); the entry point itself runs as a real
subprocess where it matters: a usage error, a model that is not available offline,
and a build killed half-way with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import tantivy

from indexer.analysis import Analyzers, register_analyzers
from indexer.cli import main
from indexer.encoder import Encoder
from indexer.layout import GenerationPaths, IndexLayout, read_vectors
from indexer.manifest import Manifest
from indexer.metadata_store import read_passages_store
from tests.conftest import XQUAD, BuildFn
from tests.test_articles import write_bad_corpus

REPO_ROOT = Path(__file__).resolve().parent.parent

BAKERY = (
    "Small bakery wins national bread prize\n\n"
    "A family bakery on Elm Street won the national prize for its sourdough loaf. "
    "The judges praised the crust and the open crumb.\n"
)
MERCADO = (
    "Comerciantes denuncian extorsiones\n\n"
    "Los comerciantes del mercado central denunciaron que un grupo criminal les exige "
    "pagos semanales, y muchos cerraron sus negocios por miedo a represalias.\n"
)

_SETTINGS = (
    "SEARCH_INDEX_DIR",
    "SEARCH_MODEL",
    "SEARCH_ALLOW_DOWNLOADS",
    "SEARCH_TRANSLATION",
    "SEARCH_MULTILINGUAL_MODEL",
    "SEARCH_BATCH_SIZE",
)


@pytest.fixture(autouse=True)
def _clean_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line reads the environment: start every test from the defaults."""
    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEARCH_TRANSLATION", "off")


def row_of(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> int:
    """The stored `row` of a hit: its line number in passages.jsonl."""
    row = searcher.doc(address).get_first("row")
    assert isinstance(row, int)
    return row


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        SEARCH_TRANSLATION="off",
    )
    env.update(extra)
    return env


def run_cli(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "indexer", *args],
        cwd=REPO_ROOT,
        env={**subprocess_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write_small_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "bakery.txt").write_text(BAKERY, encoding="utf-8")
    (folder / "mercado.txt").write_text(MERCADO, encoding="utf-8")
    return folder


def live_state(index_dir: Path) -> tuple[str, list[str]]:
    layout = IndexLayout(index_dir)
    return os.readlink(layout.current_link), sorted(os.listdir(layout.generations_dir))


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory, build: BuildFn) -> Path:
    root = tmp_path_factory.mktemp("cli")
    index_dir = root / "index"
    build([write_small_corpus(root / "corpus")], index_dir, translation="off")
    return index_dir


# --- build -------------------------------------------------------------------------


def test_build_reports_problems_and_summary_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoder: Encoder
) -> None:
    corpus = write_bad_corpus(tmp_path)
    index_dir = tmp_path / "index"
    argv = ["build", "--index", str(index_dir), "--allow-missing"]
    for source in corpus.sources:
        argv += ["--source", str(source)]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert f"in {index_dir}/" in out
    assert "articles:    5\n" in out
    assert f"skipped:     {len(corpus.skipped_locations)} input(s); warnings: 1" in out
    assert "model:       sentence-transformers/all-MiniLM-L6-v2 (384 dims)" in out
    assert "translation: off (off by setting)" in out
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == len(corpus.skipped_locations) + 1
    for location in corpus.skipped_locations | corpus.warning_locations:
        assert any(line.startswith(f"warning: {location}: ") for line in warnings), location
    assert f"warning: {corpus.jsonl}:2: malformed JSON" in err
    assert IndexLayout(index_dir).live_generation_id()


def test_strict_exits_1_and_leaves_the_live_generation_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], build: BuildFn
) -> None:
    index_dir = tmp_path / "index"
    first = build([write_small_corpus(tmp_path / "good")], index_dir, translation="off")
    before = live_state(index_dir)
    corpus = write_bad_corpus(tmp_path / "bad")

    argv = ["build", "--strict", "--allow-missing", "--index", str(index_dir)]
    for source in corpus.sources:
        argv += ["--source", str(source)]
    assert main(argv) == 1

    err = capsys.readouterr().err
    assert err.startswith("error: 19 input problem(s) and --strict is set")
    assert f"{corpus.jsonl}:3: missing or invalid 'id'" in err
    assert f"{corpus.missing}: source path does not exist" in err
    assert live_state(index_dir) == before
    live = IndexLayout(index_dir).live_generation()
    assert live.root == first.generation_dir
    assert Manifest.read(live.manifest).articles == 2


def test_unknown_flag_is_a_usage_error_from_the_entry_point() -> None:
    result = run_cli("build", "--no-such-flag")
    assert result.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in result.stderr
    assert "usage: python -m indexer" in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["build", "--no-such-flag"],
        ["build", "--translation", "sometimes"],
        ["build", "--max-tokens", "many"],
        ["info", "--strict"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_max_tokens_below_the_minimum_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--max-tokens", "4", "--index", str(tmp_path / "index")]) == 2
    assert "--max-tokens" in capsys.readouterr().err
    assert not (tmp_path / "index").exists()


def test_bad_setting_in_the_environment_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_BATCH_SIZE", "lots")
    assert main(["build", "--index", str(tmp_path / "index")]) == 2
    err = capsys.readouterr().err
    assert "SEARCH_BATCH_SIZE='lots'" in err
    assert "try 32" in err


def test_small_max_tokens_builds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoder: Encoder
) -> None:
    corpus = write_small_corpus(tmp_path / "corpus")
    index_dir = tmp_path / "index"
    argv = ["build", "--max-tokens", "32", "--source", str(corpus), "--index", str(index_dir)]
    assert main(argv) == 0, capsys.readouterr().err
    generation = IndexLayout(index_dir).live_generation()
    texts = [
        (corpus / p.article_id).read_text(encoding="utf-8")[p.start : p.end]
        for p in read_passages_store(generation)
    ]
    assert max(encoder.count_tokens(texts)) <= 32


# --- the model ---------------------------------------------------------------------


def test_hub_model_not_available_offline_fails_before_any_network_call(
    small_index: Path,
) -> None:
    """Every proxy variable points at a local listener: any attempt to reach the hub
    (HTTP or HTTPS, through huggingface_hub, requests or httpx) would connect to it."""
    import socket

    before = live_state(small_index)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    proxy = f"http://127.0.0.1:{listener.getsockname()[1]}"
    proxies = {name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                        "http_proxy", "https_proxy", "all_proxy")}  # fmt: skip
    result = run_cli(
        "build",
        "--model",
        "some-org/not-a-real-model",
        "--source",
        str(REPO_ROOT / "seeds"),
        "--index",
        str(small_index),
        timeout=600,  # a safety net for a loaded machine, not a speed claim
        env={**proxies, "NO_PROXY": "", "no_proxy": ""},
    )
    try:
        connection, _ = listener.accept()
    except BlockingIOError:  # nobody knocked
        attempt = b""
    else:
        connection.settimeout(5)
        attempt = connection.recv(200) or b"(a connection, no bytes)"
        connection.close()
    finally:
        listener.close()
    assert attempt == b"", attempt
    assert result.returncode == 1, result.stderr
    assert "some-org/not-a-real-model" in result.stderr
    assert "SEARCH_MODEL" in result.stderr
    assert "SEARCH_ALLOW_DOWNLOADS=1" in result.stderr
    assert "Traceback" not in result.stderr
    assert live_state(small_index) == before


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_missing_local_model_path_fails_with_exit_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    missing = str(tmp_path / "no-such-model")
    argv = ["build", "--source", str(REPO_ROOT / "seeds"), "--index", str(tmp_path / "index")]
    if how == "flag":
        argv += ["--model", missing]
    else:
        monkeypatch.setenv("SEARCH_MODEL", missing)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"Model path '{missing}' does not exist" in err
    assert "SEARCH_MODEL" in err
    # The build lock (taken before the model loads) made the directory; nothing else.
    assert [p.name for p in (tmp_path / "index").iterdir()] == [".build.lock"]


# --- info ----------------------------------------------------------------------------


def test_info_describes_the_live_index(
    small_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", "--index", str(small_index)]) == 0
    out = capsys.readouterr().out
    generation = IndexLayout(small_index).live_generation()
    manifest = Manifest.read(generation.manifest)
    assert f"index:        {small_index}/ -> {manifest.generation}" in out
    assert "articles:     2\n" in out
    assert f"passages:     {manifest.passages} (en 1, es 1)" in out
    assert "model:        sentence-transformers/all-MiniLM-L6-v2 (384 dims, monolingual)" in out
    assert manifest.model.ref in out
    assert "translation:  off (off by setting)" in out
    assert "size on disk:" in out


def test_info_json_is_the_manifest(small_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--index", str(small_index), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    on_disk = json.loads(IndexLayout(small_index).live_generation().manifest.read_text())
    assert printed == on_disk
    for key in ("schema_version", "generation", "created_at", "model", "passages_by_language"):
        assert key in printed
    assert printed["model"]["dimension"] == 384


def test_info_reads_the_index_dir_from_the_environment(
    small_index: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(small_index))
    assert main(["info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["articles"] == 2


def test_info_without_an_index_exits_1_and_says_how_to_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", "--index", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err
    assert "No index in" in err
    assert "python -m indexer build" in err


# --- the atomic switch ------------------------------------------------------------------


def _large_corpus(tmp_path: Path) -> Path:
    """Several seconds of work: the XQuAD corpus, or a synthetic one like it."""
    corpus = XQUAD / "corpus.jsonl"
    if corpus.is_file():
        return corpus
    path = tmp_path / "large.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for number in range(600):
            text = (BAKERY if number % 2 else MERCADO) * 3 + f" Article number {number}."
            handle.write(json.dumps({"id": f"a{number}", "text": text}) + "\n")
    return path


def _answers_queries(generation: GenerationPaths, encoder: Encoder) -> None:
    passages = read_passages_store(generation)
    index = tantivy.Index.open(str(generation.tantivy))
    register_analyzers(index)
    searcher = index.searcher()
    (token,) = Analyzers.create().analyze("text_en", "sourdough")
    hits = searcher.search(tantivy.Query.term_query(index.schema, "text_en", token), 5).hits
    assert [passages[row_of(searcher, a)].article_id for _, a in hits] == ["bakery.txt"]
    vectors = read_vectors(generation)
    assert vectors.shape == (len(passages), 384)
    best = int(np.argmax(vectors @ encoder.encode_query("comerciantes del mercado")))
    assert passages[best].article_id == "mercado.txt"


@pytest.mark.slow
def test_killed_build_leaves_the_previous_generation_live(
    tmp_path: Path, build: BuildFn, encoder: Encoder
) -> None:
    index_dir = tmp_path / "index"
    layout = IndexLayout(index_dir)
    small = write_small_corpus(tmp_path / "small")
    first = build([small], index_dir, translation="off")
    first_link = os.readlink(layout.current_link)

    log = (tmp_path / "build.log").open("w")
    command = [sys.executable, "-m", "indexer", "build", "--source", str(_large_corpus(tmp_path))]
    process = subprocess.Popen(
        [*command, "--index", str(index_dir)],
        cwd=REPO_ROOT,
        env=subprocess_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        partials: list[Path] = []
        while not partials and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            partials = list(layout.generations_dir.glob("*.partial"))
        log.flush()
        output = (tmp_path / "build.log").read_text(encoding="utf-8", errors="replace")
        assert partials, f"the build never started writing a generation:\n{output}"
        time.sleep(1.0)  # let it get some way into chunking and embedding
        assert process.poll() is None, f"the build ended before it could be killed:\n{output}"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()

    # The crash left its partial generation behind, and `current` untouched.
    assert [p.name for p in layout.generations_dir.glob("*.partial")] == [partials[0].name]
    assert os.readlink(layout.current_link) == first_link
    live = layout.live_generation()
    assert live.root == first.generation_dir
    assert Manifest.read(live.manifest) == first.manifest
    _answers_queries(live, encoder)

    # The next successful build removes the leftovers and switches.
    second = build([small], index_dir, translation="off")
    assert second.removed_leftovers >= 1
    assert list(layout.generations_dir.glob("*.partial")) == []
    assert not list(index_dir.glob(".current.*"))
    assert layout.live_generation_id() == second.manifest.generation != first.manifest.generation
    _answers_queries(layout.live_generation(), encoder)
