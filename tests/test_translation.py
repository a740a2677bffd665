"""ApertiumTranslator against the real Apertium eng-spa pipelines.

Besides plain translation these pin the failure behaviour the search service relies
on: a dead or hung stage costs one None, never an exception or a stuck thread, and
the next call works again. Run with `-s` to see warm latency and batch throughput.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.translation import ApertiumTranslator, pipeline_cores

if not ApertiumTranslator.is_available():
    pytest.skip(
        "Apertium eng-spa is not installed (apt-get install apertium-eng-spa)",
        allow_module_level=True,
    )

# English word -> a word its Spanish translation must contain, and the reverse.
EN_ES = {"dog": "perro", "house": "casa", "water": "agua", "book": "libro", "city": "ciudad"}
ES_EN = {"perro": "dog", "casa": "house", "agua": "water", "libro": "book", "ciudad": "city"}


@pytest.fixture(scope="module")
def translator() -> Iterator[ApertiumTranslator]:
    with ApertiumTranslator() as shared:
        yield shared


@pytest.fixture
def own_translator() -> Iterator[ApertiumTranslator]:
    """A translator whose processes a test may kill or stop without hurting others."""
    with ApertiumTranslator(timeout_s=1.0) as private:
        yield private


def _warm(translator: ApertiumTranslator) -> None:
    """Start the eng-spa pipeline. One try: a new pipeline's first answer has the
    start-up grace on top of the timeout (`_START_GRACE_S`), so a loaded machine
    slows it but does not make it fail."""
    if translator.translate("the house", source="en", target="es") is None:
        pytest.fail("Apertium eng-spa did not answer a new pipeline's first query")


def _stages(translator: ApertiumTranslator) -> list[subprocess.Popen[bytes]]:
    pipeline = translator._pipelines["eng-spa"]
    assert pipeline is not None
    return list(pipeline.processes)


def test_translates_both_directions(translator: ApertiumTranslator) -> None:
    spanish = translator.translate("the house is red", source="en", target="es")
    english = translator.translate("la casa es roja", source="es", target="en")
    assert spanish is not None and "casa" in spanish.lower()
    assert english is not None and "house" in english.lower()


def test_rejects_other_pairs(translator: ApertiumTranslator) -> None:
    for source, target in [("en", "fr"), ("en", "en"), ("eng", "spa")]:
        with pytest.raises(ValueError, match="Unsupported translation pair"):
            translator.translate("hello", source=source, target=target)


def test_unknown_words_pass_through_unmarked(translator: ApertiumTranslator) -> None:
    spanish = translator.translate("Zyxqwort lives in the house", source="en", target="es")
    assert spanish is not None
    assert "Zyxqwort" in spanish and "casa" in spanish
    assert not any(mark in spanish for mark in "*#@")


def test_the_last_word_survives_when_it_could_start_a_multiword(
    translator: ApertiumTranslator,
) -> None:
    """The words "de agua" begin longer dictionary entries; right before the closing superblank
    the analyser used to drop "agua" ("tandeo de agua" -> "tandeo Of")."""
    for text in ("tandeo de agua", "falta de agua", "el tandeo de agua"):
        english = translator.translate(text, source="es", target="en")
        assert english is not None and english.lower().endswith("water"), (text, english)


def test_special_characters_stay_literal(translator: ApertiumTranslator) -> None:
    text = "The dog [a] ^b$ c/d @e *f <g> {h} \\ x\x00y ~z #w and the book"
    spanish = translator.translate(text, source="en", target="es")
    assert spanish is not None
    for literal in ["perro", "^b$", "c/d", "@e", "*f", "<g>", "{h}", "\\", "#w", "libro"]:
        assert literal in spanish
    assert "\x00" not in spanish
    assert translator.translate("the city", source="en", target="es") == "La ciudad"


def test_inputs_that_once_desynchronised_the_pipeline(translator: ApertiumTranslator) -> None:
    """A trailing `^` (lrx-proc) and U+FFFF (lttoolbox's end of input) each cost an answer."""
    texts = ["x ^", "the dog ^ ^", "a\uffffb", "\uffff", "the house^", "red\u2028book"]
    results = translator.translate_many([*texts, "the city"], source="en", target="es")
    assert results[0] == "x ^" and results[1] is not None and results[1].endswith("^ ^")
    assert results[2] == "Un b" and results[3] == "" and results[4] == "La casa^"
    # Transfer may move words across a line break ("red\nbook" -> "Libro\nrojo").
    assert results[5] is not None and sorted(results[5].lower().split("\n")) == ["libro", "rojo"]
    assert results[-1] == "La ciudad"


def test_newlines_survive(translator: ApertiumTranslator) -> None:
    spanish = translator.translate("The dog.\nThe book.\n\nThe city", source="en", target="es")
    assert spanish is not None
    assert spanish.split("\n") == ["El perro.", "El libro.", "", "La ciudad"]


def test_sequential_calls_stay_aligned(translator: ApertiumTranslator) -> None:
    for _ in range(3):
        for english, spanish in EN_ES.items():
            assert translator.translate("", source="en", target="es") == ""
            assert translator.translate(" \n\t ", source="en", target="es") == ""
            result = translator.translate(f"the {english}", source="en", target="es")
            assert result is not None and spanish in result.lower()


def test_translate_many_is_aligned_with_inputs(translator: ApertiumTranslator) -> None:
    nouns = list(EN_ES.items())
    texts = [f"The {nouns[i % 5][0]} number {i} is here." for i in range(70)]
    texts[3], texts[10], texts[20] = "", "   ", "[weird] <text> {with} ^marks$ 20"
    texts[30] = "Line 30 has a dog.\nAnd a second line."
    results = translator.translate_many(texts, source="en", target="es")
    assert len(results) == len(texts)
    assert results[3] == "" and results[10] == ""
    for index, (text, result) in enumerate(zip(texts, results, strict=True)):
        assert result is not None
        if text.strip():
            assert str(index) in result
        if text.startswith("The "):
            assert nouns[index % 5][1] in result.lower()
    for index in (0, 20, 30, 69):
        assert results[index] == translator.translate(texts[index], source="en", target="es")


def test_a_batch_larger_than_the_pipe_is_written_while_answers_are_read(
    translator: ApertiumTranslator,
) -> None:
    """A batch bigger than the first stage's pipe (64 KiB on Linux) takes several
    writes, with answers read between them: written all at once it would block
    once every pipe of the chain was full."""
    sentence = "The dog walks to the house by the water. "
    texts = [f"{number} {sentence * 50}" for number in range(40)]  # ~2 KiB each
    assert sum(len(text) for text in texts) > 64 * 1024
    results = translator.translate_many(texts, source="en", target="es")
    for number, result in enumerate(results):
        assert result is not None and result.split()[0] == str(number), result
        assert result.lower().count("perro") == 50


def test_a_started_translation_is_the_translation(translator: ApertiumTranslator) -> None:
    pending = translator.start("The dog is in the house.", source="en", target="es")
    assert pending is not None
    # the direction is held until the result is read: a second start does not wait
    assert translator.start("the book", source="en", target="es") is None
    answer = pending.result()
    assert answer == translator.translate("The dog is in the house.", source="en", target="es")
    assert pending.result() == answer
    assert translator.start("   ", source="en", target="es") is None
    other = translator.start("el perro", source="es", target="en")  # free: released
    assert other is not None and other.result() == "The dog"


def test_a_started_translation_times_out_and_recovers(
    own_translator: ApertiumTranslator, caplog: pytest.LogCaptureFixture
) -> None:
    """A hung stage costs the started translation its timeout and a None, as it
    costs `translate`; the direction is free again afterwards."""
    _warm(own_translator)
    stages = _stages(own_translator)
    os.kill(stages[4].pid, signal.SIGSTOP)
    pending = own_translator.start("the book", source="en", target="es")
    assert pending is not None
    with caplog.at_level(logging.WARNING, logger="indexer.translation"):
        assert pending.result() is None
    assert "no answer within" in caplog.text
    assert all(stage.returncode is not None for stage in stages)
    _warm(own_translator)
    assert own_translator.translate("the book", source="en", target="es") == "El libro"


def test_concurrent_threads_get_their_own_answers(translator: ApertiumTranslator) -> None:
    failures: list[str] = []

    def worker(worker_id: int) -> None:
        for round_number in range(15):
            number = worker_id * 100 + round_number
            if (worker_id + round_number) % 2:
                word, expected = list(EN_ES.items())[round_number % 5]
                result = translator.translate(f"the {word} {number}", source="en", target="es")
            else:
                word, expected = list(ES_EN.items())[round_number % 5]
                result = translator.translate(f"el {word} {number}", source="es", target="en")
            if result is None or expected not in result.lower() or str(number) not in result:
                failures.append(f"{word} {number} -> {result!r}")

    threads = [threading.Thread(target=worker, args=(worker_id,)) for worker_id in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_restarts_after_a_stage_dies(own_translator: ApertiumTranslator) -> None:
    _warm(own_translator)
    victim = _stages(own_translator)[5]
    victim.kill()
    victim.wait()
    assert own_translator.translate("the dog", source="en", target="es") == "El perro"
    assert victim not in _stages(own_translator)


@pytest.mark.parametrize("stage", [0, 3, 5, 7])
def test_a_stage_dying_under_a_translation_gives_no_false_answer(
    own_translator: ApertiumTranslator, stage: int
) -> None:
    """The stages after a dead one flush and end an answer at its end of input: that
    answer ("" here, before the fix) must not pass for the translation; the text is
    sent again through a fresh pipeline."""
    _warm(own_translator)
    pending = own_translator.start("the big house of my mother", source="en", target="es")
    assert pending is not None
    victim = _stages(own_translator)[stage]
    victim.kill()
    victim.wait()
    assert pending.result() == "La casa grande de mi madre"
    assert victim not in _stages(own_translator)


def test_query_pipelines_keep_their_stages_on_their_cores() -> None:
    """Each direction's stages all run on the core it is given, a pipeline started
    again after a stage died included; a started translation names its core."""
    core = max(os.sched_getaffinity(0))
    with ApertiumTranslator(timeout_s=1.0, pipeline_cpus=(core, core)) as pinned:
        assert pinned.translate("la casa", source="es", target="en") == "The house"
        _warm(pinned)
        for direction in ("eng-spa", "spa-eng"):
            pipeline = pinned._pipelines[direction]
            assert pipeline is not None
            assert {frozenset(os.sched_getaffinity(p.pid)) for p in pipeline.processes} == {
                frozenset({core})
            }
        pending = pinned.start("the dog", source="en", target="es")
        assert pending is not None and pending.core == core
        assert pending.result() == "El perro"
        victim = _stages(pinned)[3]
        victim.kill()
        victim.wait()
        assert pinned.translate("the dog", source="en", target="es") == "El perro"
        assert {frozenset(os.sched_getaffinity(p.pid)) for p in _stages(pinned)} == {
            frozenset({core})
        }


def test_an_index_builds_pipelines_run_on_any_core(own_translator: ApertiumTranslator) -> None:
    """Without cores given (a build's batches), the stages may run side by side."""
    _warm(own_translator)
    allowed = os.sched_getaffinity(0)
    assert all(os.sched_getaffinity(p.pid) == allowed for p in _stages(own_translator))
    pending = own_translator.start("the dog", source="en", target="es")
    assert pending is not None and pending.core is None
    pending.result()


def test_the_query_pool_spreads_its_pipelines_over_the_cores() -> None:
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        assert pipeline_cores(0) is None
        return
    first, second = pipeline_cores(0), pipeline_cores(1)
    assert first == (cores[0], cores[1]) and second == (cores[1], cores[2 % len(cores)])


def test_times_out_and_recovers(
    own_translator: ApertiumTranslator, caplog: pytest.LogCaptureFixture
) -> None:
    _warm(own_translator)
    stages = _stages(own_translator)
    os.kill(stages[4].pid, signal.SIGSTOP)
    with caplog.at_level(logging.WARNING, logger="indexer.translation"):
        result = own_translator.translate("the book", source="en", target="es")
    assert result is None
    assert "no answer within" in caplog.text
    assert all(stage.returncode is not None for stage in stages)  # killed and reaped
    _warm(own_translator)
    assert own_translator.translate("the book", source="en", target="es") == "El libro"


def test_a_slow_starting_pipeline_is_not_taken_for_a_hung_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new pipeline's first answer waits for its stages to start, which takes
    seconds on a busy machine: beyond the timeout, that is no hang. Here a real
    first stage that takes 1.5 s to start, before the real eng-spa stages."""
    programs = tmp_path / "bin"
    programs.mkdir()
    slow_start = programs / "slow-start"
    slow_start.write_text("#!/bin/sh\nsleep 1.5\nexec cat\n", encoding="utf-8")
    slow_start.chmod(0o755)
    modes = tmp_path / "modes"
    modes.mkdir()
    for direction in ("eng-spa", "spa-eng"):
        real = Path(f"/usr/share/apertium/modes/{direction}.mode").read_text(encoding="utf-8")
        (modes / f"{direction}.mode").write_text(f"slow-start | {real}", encoding="utf-8")
    monkeypatch.setenv("PATH", f"{programs}{os.pathsep}{os.environ['PATH']}")
    with ApertiumTranslator(modes_dir=modes, timeout_s=0.5) as slow:
        started = time.monotonic()
        assert slow.translate("the book", source="en", target="es") == "El libro"
        assert time.monotonic() - started >= 1.5
        assert slow.translate("the house", source="en", target="es") == "La casa"
        # once it answers, a hung stage costs the timeout only, as before
        os.kill(_stages(slow)[-1].pid, signal.SIGSTOP)
        started = time.monotonic()
        assert slow.translate("the dog", source="en", target="es") is None
        assert time.monotonic() - started < 5


def test_close_stops_every_process(own_translator: ApertiumTranslator) -> None:
    _warm(own_translator)
    stages = _stages(own_translator)
    own_translator.close()
    assert all(stage.returncode is not None for stage in stages)
    assert own_translator.translate("the dog", source="en", target="es") is None


def test_stays_off_without_apertium(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert not ApertiumTranslator.is_available(tmp_path)
    with (
        caplog.at_level(logging.WARNING, logger="indexer.translation"),
        ApertiumTranslator(modes_dir=tmp_path) as absent,
    ):
        assert absent.translate("the dog", source="en", target="es") is None
        assert absent.translate_many(["a", "b"], source="es", target="en") == [None, None]
    assert caplog.text.count("not found") == 1


@pytest.mark.parametrize("watch", ["pidfd", "waitpid"])
def test_a_stage_that_exited_is_seen_by_either_watch(
    own_translator: ApertiumTranslator, watch: str
) -> None:
    """One poll of the stages' pidfds, or a waitpid per stage where the system has
    no pidfds: either way a stage that exited (reaped or not) is seen before the
    next translation uses the pipeline."""
    _warm(own_translator)
    pipeline = own_translator._pipelines["eng-spa"]
    assert pipeline is not None
    if watch == "pidfd":  # used wherever the system gives pidfds (Linux 5.3+)
        assert (pipeline._exits is not None) == _pidfds_work()
    else:
        if pipeline._exits is not None:
            pipeline._exits.close()
        pipeline._exits = None
    assert pipeline.alive()
    pipeline.processes[4].kill()
    deadline = time.monotonic() + 5
    while pipeline.alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not pipeline.alive()
    assert own_translator.translate("the dog", source="en", target="es") == "El perro"
    assert own_translator._pipelines["eng-spa"] is not pipeline


def _pidfds_work() -> bool:
    try:
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        return False
    return True
