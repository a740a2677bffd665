"""A translation begun ahead (`QueryTranslator.head_start`): the query's first call
reads the translation already under way, a block left without that call still
settles it, and a pooled translator comes back to the pool once."""

from __future__ import annotations

import pytest

from search.query_translation import QueryTranslator, TranslatorPool

pytestmark = pytest.mark.fast

_ANSWERS = {"en": "the attack", "es": "el ataque"}


class _Pending:
    def __init__(self, owner: StartingTranslator, text: str, target: str) -> None:
        self._owner, self._text, self._target = owner, text, target

    def result(self) -> str | None:
        self._owner.read.append((self._text, self._target))
        return self._owner.answer


class StartingTranslator:
    """Records what was started, read and translated the usual way."""

    def __init__(self, *, refuse: bool = False, answer: str | None = "el ataque") -> None:
        self.refuse = refuse
        self.answer = answer
        self.started: list[tuple[str, str, str]] = []
        self.read: list[tuple[str, str]] = []
        self.asked: list[tuple[str, str, str]] = []

    def start(self, text: str, *, source: str, target: str) -> _Pending | None:
        if self.refuse:
            return None
        self.started.append((text, source, target))
        return _Pending(self, text, target)

    def translate(self, text: str, *, source: str, target: str) -> str | None:
        self.asked.append((text, source, target))
        return _ANSWERS[target]

    def close(self) -> None:
        pass


def test_the_first_call_reads_the_translation_begun_ahead() -> None:
    translator = StartingTranslator()
    queries = QueryTranslator(translator)
    with queries.head_start("attack", language="en") as started:
        assert started and translator.started == [("attack", "en", "es")]
        assert translator.read == []  # nothing waited for yet: the caller works
        translations = queries.translate("attack", language="en")
    assert translations.texts == {"es": "el ataque"}
    assert translator.read == [("attack", "es")] and translator.asked == []


def test_an_unknown_language_starts_the_direction_this_thread_runs() -> None:
    translator = StartingTranslator()
    queries = QueryTranslator(translator)
    with queries.head_start("attack") as started:
        assert started
        translations = queries.translate("attack")
    assert translator.started == [("attack", "en", "es")]
    assert translator.asked == [("attack", "es", "en")]  # the other one, as before
    assert set(translations.texts) <= {"en", "es"}


def test_a_block_left_without_the_call_settles_it_into_the_cache() -> None:
    translator = StartingTranslator()
    queries = QueryTranslator(translator)
    with queries.head_start("attack", language="en"):
        pass
    assert translator.read == [("attack", "es")]
    with queries.head_start("attack", language="en") as started:
        assert not started  # cached now: nothing to begin
        assert queries.translate("attack", language="en").texts == {"es": "el ataque"}
    assert translator.started == [("attack", "en", "es")] and translator.asked == []


def test_a_failed_head_start_rests_its_direction() -> None:
    translator = StartingTranslator(answer=None)
    queries = QueryTranslator(translator)
    with queries.head_start("attack", language="en"):
        translations = queries.translate("attack", language="en")
    assert translations.texts == {} and "en->es failed" in translations.notes[0]
    with queries.head_start("assault", language="en") as started:
        assert not started  # resting
    assert queries.translate("assault", language="en").texts == {}
    assert translator.asked == []


def test_without_a_head_start_the_caller_translates_as_before() -> None:
    for translator in (StartingTranslator(refuse=True), StartingTranslator()):
        queries = QueryTranslator(translator, enabled=translator.refuse)
        with queries.head_start("attack", language="en") as started:
            assert not started
        assert translator.started == []


def test_a_pool_gives_its_translator_back_once_the_result_is_read() -> None:
    only = StartingTranslator()
    pool = TranslatorPool([only], wait_s=0.1)
    pending = pool.start("attack", source="en", target="es")
    assert pending is not None
    assert pool.start("other", source="en", target="es") is None  # none idle: no wait
    assert pool.translate("x", source="en", target="es") is None  # still out
    assert pending.result() == "el ataque"
    assert pending.result() == "el ataque"  # read twice, given back once
    assert pool.translate("x", source="en", target="es") == "el ataque"
    assert pool.start("other", source="en", target="es") is not None


def test_a_pool_keeps_a_translator_that_cannot_start() -> None:
    refusing = StartingTranslator(refuse=True)
    pool = TranslatorPool([refusing], wait_s=0.1)
    assert pool.start("attack", source="en", target="es") is None
    assert pool.translate("x", source="en", target="es") == "el ataque"
