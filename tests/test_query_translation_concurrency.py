"""Both directions of a query are translated at once (only the one out of its
language when that is known), and a pool serves a direction with a translator that
is busy in the other one."""

from __future__ import annotations

import threading

import pytest

from search.query_translation import QueryTranslator, TranslatorPool

pytestmark = pytest.mark.fast


class MeetingTranslator:
    """Answers only once `parties` calls are inside at the same time: a caller that
    asks one direction after the other gets None (the barrier times out)."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=10)
        self.closed = False

    def translate(self, text: str, *, source: str, target: str) -> str | None:
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return None
        return {"en": "the attack", "es": "el ataque"}[target]

    def close(self) -> None:
        self.closed = True


def test_the_two_directions_run_at_the_same_time() -> None:
    translator = MeetingTranslator(parties=2)
    translations = QueryTranslator(translator).translate("ataque attack")
    assert translations.texts == {"en": "the attack", "es": "el ataque"}
    assert translations.notes == []


def test_a_cached_direction_is_not_asked_again() -> None:
    translator = MeetingTranslator(parties=2)
    query_translator = QueryTranslator(translator)
    query_translator.translate("ataque attack")
    translator.barrier = threading.Barrier(1, timeout=10)  # alone now: any call answers
    assert query_translator.translate("ataque attack").texts == {
        "en": "the attack",
        "es": "el ataque",
    }


def test_a_pool_of_one_serves_both_directions_at_once() -> None:
    translator = MeetingTranslator(parties=2)
    pool = TranslatorPool([translator], wait_s=5)
    answers: dict[str, str | None] = {}

    def ask(source: str, target: str) -> None:
        answers[target] = pool.translate("x", source=source, target=target)

    threads = [
        threading.Thread(target=ask, args=("es", "en")),
        threading.Thread(target=ask, args=("en", "es")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert answers == {"en": "the attack", "es": "el ataque"}
    pool.close()
    assert translator.closed


def test_a_translator_added_later_serves_alongside_the_first() -> None:
    first, later = MeetingTranslator(parties=1), MeetingTranslator(parties=1)
    pool = TranslatorPool([first], wait_s=5)
    assert pool.translate("x", source="es", target="en") == "the attack"  # a queue exists
    pool.add(later)
    # One barrier for both: two es->en calls answer only if both are in at once,
    # which takes two translators.
    first.barrier = later.barrier = threading.Barrier(2, timeout=10)
    answers: list[str | None] = []

    def ask() -> None:
        answers.append(pool.translate("x", source="es", target="en"))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert answers == ["the attack", "the attack"]


def test_a_translator_added_to_a_closed_pool_is_closed() -> None:
    pool = TranslatorPool([MeetingTranslator(parties=1)])
    pool.close()
    late = MeetingTranslator(parties=1)
    pool.add(late)
    assert late.closed


class RecordingTranslator:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    def translate(self, text: str, *, source: str, target: str) -> str | None:
        self.asked.append((text, source, target))
        return {"en": "the attack", "es": "el ataque"}[target]

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("language", "target"), [("en", "es"), ("es", "en")])
def test_a_known_language_is_translated_out_of_it_only(language: str, target: str) -> None:
    translator = RecordingTranslator()
    translations = QueryTranslator(translator).translate(
        'ataque "attack plan"', phrases=["attack plan"], language=language
    )
    assert {(source, to) for _, source, to in translator.asked} == {(language, target)}
    assert translations.texts.keys() == {target}
    assert translations.phrases == {"attack plan": {target: translations.texts[target]}}


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        QueryTranslator(RecordingTranslator()).translate("x", language="fr")
