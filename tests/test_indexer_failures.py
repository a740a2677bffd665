"""How a build fails: a missing source, a busy index, a full disk, Ctrl-C, SIGTERM,
a closed output pipe, and the translator's processes on an error path.

Every test checks what the user is left with: the previous generation still live,
no partial generation, no stray processes, and one line saying what happened.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from indexer.cli import main
from indexer.encoder import Encoder
from indexer.errors import SourceNotFoundError
from indexer.layout import IndexLayout
from indexer.translation import ApertiumTranslator
from tests.conftest import BuildFn
from tests.test_indexer_cli import (
    REPO_ROOT,
    _large_corpus,
    live_state,
    subprocess_env,
    write_small_corpus,
)


@pytest.fixture(autouse=True)
def _clean_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SEARCH_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SEARCH_TRANSLATION", "off")


@pytest.fixture
def live_index(tmp_path: Path, build: BuildFn) -> Path:
    """An index with one good generation live, built from a two-article corpus."""
    index_dir = tmp_path / "index"
    build([write_small_corpus(tmp_path / "corpus")], index_dir, translation="off")
    return index_dir


def partials(index_dir: Path) -> list[Path]:
    return list(IndexLayout(index_dir).generations_dir.glob("*.partial"))


def child_pids() -> set[int]:
    """Live (not zombie) processes whose parent is this test process."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, parent = stat.rsplit(")", 1)[1].split()[:2]
        if int(parent) == os.getpid() and state != "Z":
            children.add(int(entry.name))
    return children


# --- a source that does not exist ------------------------------------------------------


def test_a_missing_source_fails_and_leaves_the_live_index(
    tmp_path: Path, live_index: Path, build: BuildFn
) -> None:
    before = live_state(live_index)
    good = tmp_path / "corpus"
    typo = tmp_path / "corpsu"
    with pytest.raises(SourceNotFoundError, match="--allow-missing") as raised:
        build([good, typo], live_index, translation="off")
    assert str(typo) in str(raised.value)
    assert live_state(live_index) == before

    report = build([good, typo], live_index, translation="off", allow_missing=True)
    assert [str(p) for p in report.problems] == [f"{typo}: source path does not exist (skipped)"]
    assert live_state(live_index) != before


def test_a_missing_source_exits_1_from_the_command_line(
    tmp_path: Path, live_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = live_state(live_index)
    typo = tmp_path / "corpsu"
    argv = ["build", "--source", str(tmp_path / "corpus"), "--source", str(typo)]
    assert main([*argv, "--index", str(live_index)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: Source path(s) not found: {typo};")
    assert live_state(live_index) == before


# --- one build at a time, and the translator's processes ----------------------------------


def test_a_busy_index_is_refused_before_the_model_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock comes first: with a model that cannot load, the answer is still "busy"."""
    index_dir = tmp_path / "index"
    corpus = write_small_corpus(tmp_path / "corpus")
    argv = ["build", "--source", str(corpus), "--index", str(index_dir)]
    with IndexLayout(index_dir).build_lock():
        assert main([*argv, "--model", str(tmp_path / "no-such-model")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Another build is running")
    assert "Model path" not in err


def _fake_apertium(modes: Path) -> Path:
    """Mode files whose two stages echo their input (`cat`): real pipelines, no Apertium."""
    modes.mkdir()
    stage = modes / "echo-stage"
    stage.write_text("#!/bin/sh\nexec cat\n", encoding="utf-8")
    stage.chmod(0o755)
    for direction in ("eng-spa", "spa-eng"):
        (modes / f"{direction}.mode").write_text(f"{stage} | {stage}\n", encoding="utf-8")
    return modes


@pytest.mark.parametrize("engine", ["echo-stages", "apertium"])
def test_translator_processes_end_when_the_build_fails(
    tmp_path: Path,
    build: BuildFn,
    encoder: Encoder,
    monkeypatch: pytest.MonkeyPatch,
    engine: str,
) -> None:
    if engine == "apertium" and not ApertiumTranslator.is_available():
        pytest.skip("Apertium (apertium-eng-spa) is not installed")
    if engine == "echo-stages":
        modes = _fake_apertium(tmp_path / "modes")
        monkeypatch.setattr(
            "indexer.translation.open_translator",
            lambda setting, **_: ApertiumTranslator(modes_dir=modes),
        )
    translating = threading.Event()
    real_translate_many = ApertiumTranslator.translate_many

    def translate_many(self, texts, *, source, target):  # type: ignore[no-untyped-def]
        translating.set()
        return real_translate_many(self, texts, source=source, target=target)

    def encoder_fails(texts: object, *, batch_size: int = 32) -> object:
        translating.wait(timeout=60)  # fail while the translation thread is at work
        raise RuntimeError("simulated encoder failure")

    from indexer.onnx_export import prepare_onnx

    class FailingPassageEncoder:
        """The build's passage encoder (ONNX Runtime), failing on its first batch."""

        def __init__(self, real: object) -> None:
            self._real = real

        def __getattr__(self, name: str) -> object:
            return getattr(self._real, name)

        encode = staticmethod(encoder_fails)

    def prepare_failing(*args: object, **kwargs: object) -> object:
        prepared = prepare_onnx(*args, **kwargs)  # type: ignore[arg-type]
        return dataclasses.replace(
            prepared,
            passage_encoder=FailingPassageEncoder(prepared.passage_encoder),  # type: ignore[arg-type]
        )

    monkeypatch.setattr(ApertiumTranslator, "translate_many", translate_many)
    monkeypatch.setattr(encoder, "encode", encoder_fails)
    monkeypatch.setattr("indexer.build.prepare_onnx", prepare_failing)
    before = child_pids()
    corpus = write_small_corpus(tmp_path / "corpus")
    with pytest.raises(RuntimeError, match="simulated encoder failure"):
        build([corpus], tmp_path / "index", translation="on")
    assert translating.is_set(), "the translator was at work when the encoder failed"
    assert child_pids() - before == set()
    assert partials(tmp_path / "index") == []


# --- a full disk ----------------------------------------------------------------------


def test_a_full_disk_is_one_error_line_and_the_old_generation_stays(
    tmp_path: Path,
    live_index: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = live_state(live_index)

    def write_until_full(previous: Path | None, target: Path, *args: object) -> None:
        target.write_bytes(b"\0" * 100)  # half written when the disk filled up
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr("indexer.generation_writer.extend_vectors", write_until_full)
    argv = ["build", "--source", str(tmp_path / "corpus"), "--index", str(live_index)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: No space left on the device of {live_index}/")
    assert re.search(r"needs about [\d.]+ MB and [\d.]+ MB are free", line), line
    assert line.endswith("the live index was not changed.")
    assert live_state(live_index) == before
    assert partials(live_index) == []


# --- Ctrl-C and SIGTERM ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_build_cleans_up_and_exits_130(
    tmp_path: Path, live_index: Path, signum: int
) -> None:
    before = live_state(live_index)
    command = [sys.executable, "-m", "indexer", "build", "--source", str(_large_corpus(tmp_path))]
    process = subprocess.Popen(
        [*command, "--index", str(live_index)],
        cwd=REPO_ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not partials(live_index) and process.poll() is None:
            assert time.monotonic() < deadline, "the build never started a generation"
            time.sleep(0.05)
        time.sleep(0.5)  # into chunking or embedding
        assert process.poll() is None, "the build ended before it could be interrupted"
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, err
    assert out == ""
    assert "Traceback" not in err
    assert err.splitlines()[-1] == "interrupted: the live index was not changed"
    assert partials(live_index) == []
    assert live_state(live_index) == before


# --- output into a pipe that closes early -------------------------------------------------


@pytest.mark.parametrize("json_flag", [["--json"], []])
def test_info_into_a_closed_pipe_exits_quietly(live_index: Path, json_flag: list[str]) -> None:
    """`python -m indexer info --json | head -0`: the reader is gone before we write."""
    process = subprocess.Popen(
        [sys.executable, "-m", "indexer", "info", "--index", str(live_index), *json_flag],
        cwd=REPO_ROOT,
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    with process.stderr:
        err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, err
    assert err == ""
