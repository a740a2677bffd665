"""Cross-lingual search end to end: a Spanish query finds English articles, and back.

Real Apertium at index and query time; skipped where it is not installed (the
service then runs with translation off, which `test_translation_off_*` covers).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from indexer.encoder import Encoder
from indexer.translation import ApertiumTranslator, PendingTranslation
from search.engine import SearchEngine
from search.models import HealthTranslation, Hit, Mode, SearchRequest
from search.plan import QueryPlan
from search.settings import ServiceSettings
from search.suggest import Suggester
from search.wiring import build_engine
from tests.corpus import ARTICLES, write_corpus

needs_apertium = pytest.mark.skipif(
    not ApertiumTranslator.is_available(), reason="Apertium (apertium-eng-spa) not installed"
)


def _only(prefix: str) -> dict[str, str]:
    return {name: text for name, text in ARTICLES.items() if name.startswith(prefix)}


@pytest.fixture(scope="module")
def english_engine(tmp_path_factory, build, encoder, translator) -> SearchEngine:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("english-only")
    report = build(
        [write_corpus(root / "corpus", _only("en/"))], root / "index", translation="auto"
    )
    assert report.manifest.passages_by_language.keys() == {"en"}
    return SearchEngine(root / "index", encoder=encoder, translator=translator)


@pytest.fixture(scope="module")
def spanish_engine(tmp_path_factory, build, encoder, translator) -> SearchEngine:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("spanish-only")
    report = build(
        [write_corpus(root / "corpus", _only("es/"))], root / "index", translation="auto"
    )
    assert report.manifest.passages_by_language.keys() == {"es"}
    return SearchEngine(root / "index", encoder=encoder, translator=translator)


def _top(engine: SearchEngine, query: str, mode: Mode, *, translate: bool = True) -> list[str]:
    response = engine.search(SearchRequest(query=query, mode=mode, limit=3, translate=translate))
    return [result.article_id for result in response.results]


SPANISH_TO_ENGLISH = [
    ("los votantes eligen al próximo presidente", "en/election.txt"),
    ("hombres armados dispararon contra el jefe de seguridad", "en/harfuch-attack.txt"),
    ("lluvias e inundaciones en la costa", "en/hurricane.txt"),
]
ENGLISH_TO_SPANISH = [
    ("shop owners pay criminals every week", "es/extorsion.txt"),
    ("voters elect the next president", "es/elecciones.txt"),
    ("gunmen attacked the armoured truck", "es/ataque.txt"),
]


@needs_apertium
@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
@pytest.mark.parametrize(("query", "expected"), SPANISH_TO_ENGLISH)
def test_spanish_query_finds_english_passage(
    english_engine: SearchEngine, mode: Mode, query: str, expected: str
) -> None:
    assert _top(english_engine, query, mode)[0] == expected


@needs_apertium
@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
@pytest.mark.parametrize(("query", "expected"), ENGLISH_TO_SPANISH)
def test_english_query_finds_spanish_passage(
    spanish_engine: SearchEngine, mode: Mode, query: str, expected: str
) -> None:
    assert _top(spanish_engine, query, mode)[0] == expected


@needs_apertium
def test_each_translation_path_crosses_on_its_own(
    english_engine: SearchEngine,
    tmp_path: Path,
    build,
    encoder,
    translator,  # type: ignore[no-untyped-def]
) -> None:
    query, expected = SPANISH_TO_ENGLISH[0]
    # Index-time translations alone (query translation off for this request):
    assert _top(english_engine, query, "lexical", translate=False)[0] == expected
    # Query translation alone (an index built without translation):
    build([write_corpus(tmp_path / "corpus", _only("en/"))], tmp_path / "index",
          translation="off")  # fmt: skip
    plain = SearchEngine(tmp_path / "index", encoder=encoder, translator=translator)
    assert _top(plain, query, "lexical")[0] == expected
    # Neither: no shared words, nothing to find.
    assert _top(plain, query, "lexical", translate=False) == []


@needs_apertium
@pytest.mark.parametrize("mode", ["hybrid", "lexical", "semantic"])
def test_a_quoted_phrase_is_found_in_the_other_language(
    english_engine: SearchEngine, spanish_engine: SearchEngine, mode: Mode
) -> None:
    """A phrase is required in every leg; it once ruled out every passage in the other
    language. Its translation ("la costa del Pacífico" -> "The Pacific coast") or
    the passages' own translations ("dueños de tiendas" for "shop owners") count."""
    assert _top(english_engine, 'lluvias en "la costa del Pacífico"', mode)[:1] == [
        "en/hurricane.txt"
    ]
    assert _top(spanish_engine, 'criminals and "shop owners"', mode)[:1] == ["es/extorsion.txt"]
    # Still a requirement: a phrase neither language holds finds nothing.
    assert _top(english_engine, 'lluvias en "la costa de Marfil"', mode) == []


@needs_apertium
def test_results_show_original_text_and_say_they_matched_through_translation(
    english_engine: SearchEngine,
) -> None:
    response = english_engine.search(SearchRequest(query="los votantes", mode="lexical"))
    top = response.results[0]
    assert top.article_id == "en/election.txt"
    assert top.via_translation
    assert "Millions of voters" in top.text  # the original English, not a translation
    marked = {(top.text[h.start : h.end], h.translated) for h in top.highlights}
    assert ("voters", True) in marked
    assert response.translations.get("en")


@needs_apertium
def test_manifest_records_translation_and_pivot(english_engine: SearchEngine) -> None:
    translation = english_engine.snapshot.manifest.translation
    assert translation.enabled and translation.engine == "apertium"
    assert translation.embedding_pivot == "en"
    assert translation.translated_passages > 0


def test_translation_off_when_apertium_is_absent(
    tmp_path: Path,
    build,
    encoder,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The service's own wiring, on a machine whose PATH has no Apertium programs."""
    report = build([write_corpus(tmp_path / "corpus", _only("en/"))], tmp_path / "index",
                   translation="off")  # fmt: skip
    assert not report.manifest.translation.enabled
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr("search.engine._load_encoder", lambda index_dir, manifest: encoder)
    assert not ApertiumTranslator.is_available()
    engine = build_engine(ServiceSettings.from_env({}), tmp_path / "index")
    assert not engine.translation_available
    response = engine.search(SearchRequest(query="voters", mode="hybrid"))
    assert response.results[0].article_id == "en/election.txt"
    assert response.translations == {}
    assert any("translation unavailable" in note for note in response.notes)
    health = engine.health()
    assert health.translation == HealthTranslation(query=False, index=False, embedding_pivot=None)
    assert health.status == "degraded"
    assert "query translation off: Apertium unavailable or disabled" in health.degraded


@needs_apertium
def test_a_hung_translator_never_fails_a_search(
    tmp_path: Path,
    build,
    encoder,  # type: ignore[no-untyped-def]
) -> None:
    import os
    import signal

    build([write_corpus(tmp_path / "corpus", _only("en/"))], tmp_path / "index",
          translation="off")  # fmt: skip
    with ApertiumTranslator(timeout_s=0.5) as hanging:
        engine = SearchEngine(tmp_path / "index", encoder=encoder, translator=hanging)
        engine.warm_up()
        calls: list[tuple[str, str]] = []
        real_translate = hanging.translate

        def counting(text: str, *, source: str, target: str) -> str | None:
            calls.append((source, target))
            return real_translate(text, source=source, target=target)

        real_start = hanging.start

        def counting_start(text: str, *, source: str, target: str):  # type: ignore[no-untyped-def]
            calls.append((source, target))  # a translation begun ahead (`head_start`)
            return real_start(text, source=source, target=target)

        hanging.translate = counting  # type: ignore[method-assign]
        hanging.start = counting_start  # type: ignore[method-assign]
        pipeline = hanging._pipelines["spa-eng"]
        assert pipeline is not None
        for stage in pipeline.processes:
            os.kill(stage.pid, signal.SIGSTOP)
        first = engine.search(SearchRequest(query="voters ballots", mode="hybrid"))
        assert first.results[0].article_id == "en/election.txt"
        assert any("es->en failed" in note for note in first.notes)
        # Both directions are asked at once, so their order is the threads'.
        assert sorted(calls) == [("en", "es"), ("es", "en")]
        # The failed direction rests: the next query does not ask it again.
        second = engine.search(SearchRequest(query="hurricane landfall", mode="hybrid"))
        assert calls[2:] == [("en", "es")]
        assert any("es->en failed" in note for note in second.notes)
        assert second.results[0].article_id == "en/hurricane.txt"


def test_open_translator_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from indexer.errors import SettingsError
    from indexer.translation import open_translator

    assert open_translator("off") is None
    monkeypatch.setattr(ApertiumTranslator, "is_available", staticmethod(lambda *a: False))
    assert open_translator("auto") is None
    with pytest.raises(SettingsError, match="apertium-eng-spa"):
        open_translator("on")


@needs_apertium
def test_embedding_while_translating_changes_no_result(
    english_engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An English query is embedded while Apertium translates it; forced to wait for
    the translation first, as a Spanish-looking one does, it ranks the same."""
    import search.engine

    queries = ["voters ballots", "storm flooding the coast", "attack on the security chief"]
    ahead = [english_engine.search(SearchRequest(query=q, mode="hybrid")) for q in queries]
    english_engine.clear_caches()
    monkeypatch.setattr(search.engine, "may_be_spanish", lambda text: True)
    after = [english_engine.search(SearchRequest(query=q, mode="hybrid")) for q in queries]
    for early, late in zip(ahead, after, strict=True):
        assert early.translations == late.translations
        assert [(r.passage_id, r.score) for r in early.results] == [
            (r.passage_id, r.score) for r in late.results
        ]


@needs_apertium
def test_an_english_query_is_embedded_off_the_core_apertium_translates_on(
    english_engine: SearchEngine, encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stages of a query pipeline sit on one core; the search thread encodes the
    query meanwhile on the others, and gets every core back afterwards."""
    import search.query_embedding

    allowed = os.sched_getaffinity(0)
    core = max(allowed)
    pinned = ApertiumTranslator(timeout_s=1.0, pipeline_cpus=(core, core))
    engine = SearchEngine(
        english_engine.snapshot.paths.root.parent.parent,
        encoder=encoder,
        translator=pinned,
    )
    embed = search.query_embedding.QueryEmbedder.embed
    during: list[set[int]] = []

    def watched(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        during.append(os.sched_getaffinity(0))
        return embed(self, *args, **kwargs)

    try:
        engine.search(SearchRequest(query="the storm warning", mode="hybrid"))  # warm
        monkeypatch.setattr(search.query_embedding.QueryEmbedder, "embed", watched)
        response = engine.search(SearchRequest(query="Who won the vote?", mode="hybrid"))
    finally:
        pinned.close()
    assert response.translations.get("es")
    assert during and during[0] == (allowed - {core} if len(allowed) > 1 else allowed)
    assert os.sched_getaffinity(0) == allowed


class _CountingTranslator:
    """The real translator, recording which directions it is asked."""

    def __init__(self, inner: ApertiumTranslator) -> None:
        self.inner = inner
        self.asked: set[tuple[str, str]] = set()

    def translate(self, text: str, *, source: str, target: str) -> str | None:
        self.asked.add((source, target))
        return self.inner.translate(text, source=source, target=target)

    def close(self) -> None:
        """The fixture's translator is shared: closed by its fixture."""


@needs_apertium
@pytest.mark.parametrize(
    ("query", "directions"),
    [
        ("Who attacked the security chief?", {("en", "es")}),
        ("¿Quién atacó al jefe de seguridad?", {("es", "en")}),
        ("security chief ataque", {("en", "es"), ("es", "en")}),  # no function word
    ],
)
def test_a_query_of_evident_language_is_translated_out_of_it_only(
    english_engine: SearchEngine,
    translator: ApertiumTranslator,
    query: str,
    directions: set[tuple[str, str]],
) -> None:
    counting = _CountingTranslator(translator)
    engine = SearchEngine(
        english_engine.index_dir, encoder=english_engine.given_encoder, translator=counting
    )
    response = engine.search(SearchRequest(query=query, mode="hybrid", limit=3))
    assert counting.asked == directions
    assert response.results[0].article_id == "en/harfuch-attack.txt"


@needs_apertium
def test_translating_one_way_changes_no_result(
    english_engine: SearchEngine, spanish_engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queries of evident language skip the direction into their own language; made
    to translate both ways, they rank the same: that direction's output repeats the
    query and is dropped."""
    import search.engine

    queries = [
        "Who attacked the security chief?",
        "voters elect the next president",
        "¿Quién atacó al jefe de seguridad?",
        "los votantes eligen al próximo presidente",
    ]
    engines = (english_engine, spanish_engine)
    one_way = [e.search(SearchRequest(query=q, mode="hybrid")) for e in engines for q in queries]
    for engine in engines:
        engine.clear_caches()
    monkeypatch.setattr(search.engine, "evident_language", lambda text: None)
    both = [e.search(SearchRequest(query=q, mode="hybrid")) for e in engines for q in queries]
    for one, two in zip(one_way, both, strict=True):
        assert one.translations == two.translations
        assert [(r.passage_id, r.score) for r in one.results] == [
            (r.passage_id, r.score) for r in two.results
        ]


def _meet(barrier: threading.Barrier) -> bool:
    """Whether the other party arrived within the barrier's timeout."""
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        return False
    return True


class _EncoderMeetingTheLexicalLeg:
    """The real encoder, which starts encoding only when the lexical leg starts too
    (or after 10 s): `met` records, per call, whether they met."""

    def __init__(self, inner: Encoder, barrier: threading.Barrier) -> None:
        self.inner = inner
        self.barrier = barrier
        self.met: list[bool] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def encode(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        self.met.append(_meet(self.barrier))
        return self.inner.encode(texts, batch_size=batch_size)


@needs_apertium
def test_a_spanish_querys_lexical_leg_runs_while_its_translation_is_encoded(
    english_engine: SearchEngine, translator: ApertiumTranslator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query that reads as Spanish is embedded through its English translation, which
    can start only once Apertium answers: the lexical leg runs meanwhile (the two meet
    at a barrier, which legs run one after the other never pass), and the results are
    those of the legs one after the other."""
    from search.lexical import LexicalRetriever

    query = SearchRequest(query="hombres armados dispararon contra el jefe de seguridad")
    english_engine.clear_caches()
    expected = english_engine.search(query)
    barrier = threading.Barrier(2, timeout=10)
    lexical_met: list[bool] = []
    lexical_search = LexicalRetriever.search

    def meeting_search(self: LexicalRetriever, plan: QueryPlan, k: int) -> list[Hit]:
        lexical_met.append(_meet(barrier))
        return lexical_search(self, plan, k)

    monkeypatch.setattr(LexicalRetriever, "search", meeting_search)
    assert english_engine.given_encoder is not None
    meeting = _EncoderMeetingTheLexicalLeg(english_engine.given_encoder, barrier)  # type: ignore[arg-type]
    engine = SearchEngine(english_engine.index_dir, encoder=meeting, translator=translator)  # type: ignore[arg-type]
    response = engine.search(query)
    assert meeting.met == [True]
    assert lexical_met == [True]
    assert response.translations == expected.translations
    assert "en" in response.translations
    assert [(r.passage_id, r.score) for r in response.results] == [
        (r.passage_id, r.score) for r in expected.results
    ]
    assert response.results[0].article_id == "en/harfuch-attack.txt"


class _LoggedResult:
    def __init__(self, pending: PendingTranslation, log: list[tuple[str, int]]) -> None:
        self.pending = pending
        self.log = log

    def result(self) -> str | None:
        self.log.append(("result", threading.get_ident()))
        return self.pending.result()


class _RecordingStarts:
    """The real translator, logging starts, results and plain calls with their thread."""

    def __init__(self, inner: ApertiumTranslator, log: list[tuple[str, int]]) -> None:
        self.inner = inner
        self.log = log

    def start(self, text: str, *, source: str, target: str) -> _LoggedResult:
        self.log.append((f"start {source}->{target}", threading.get_ident()))
        pending = self.inner.start(text, source=source, target=target)
        assert pending is not None
        return _LoggedResult(pending, self.log)

    def translate(self, text: str, *, source: str, target: str) -> str | None:
        self.log.append((f"translate {source}->{target}", threading.get_ident()))
        return self.inner.translate(text, source=source, target=target)

    def close(self) -> None:
        """The fixture's translator is shared: closed by its fixture."""


class _LoggedEncoder:
    def __init__(self, inner: Encoder, log: list[tuple[str, int]]) -> None:
        self.inner = inner
        self.log = log

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def encode(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        self.log.append(("encode", threading.get_ident()))
        return self.inner.encode(texts, batch_size=batch_size)


@needs_apertium
def test_an_english_query_is_sent_to_apertium_before_it_is_embedded(
    english_engine: SearchEngine, translator: ApertiumTranslator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search's own thread sends an English query into Apertium, embeds it while
    the stages translate, works out "did you mean", then reads the translation: no
    helper thread between.
    The results are those of a translation made the usual way."""
    query = SearchRequest(query="Who attacked the security chief?", mode="hybrid")
    english_engine.clear_caches()
    expected = english_engine.search(query)
    log: list[tuple[str, int]] = []
    assert english_engine.given_encoder is not None
    encoder = _LoggedEncoder(english_engine.given_encoder, log)  # type: ignore[arg-type]
    engine = SearchEngine(
        english_engine.index_dir,
        encoder=encoder,  # type: ignore[arg-type]
        translator=_RecordingStarts(translator, log),  # type: ignore[arg-type]
    )
    log.clear()  # the engine's warm-up encodes nothing, but be sure
    suggest = Suggester.suggest

    def logged_suggest(self: Suggester, *args: object) -> object:
        log.append(("did you mean", threading.get_ident()))
        return suggest(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Suggester, "suggest", logged_suggest)
    response = engine.search(query)
    events = [event for event, _ in log]
    # "did you mean" needs only the query: worked out while Apertium finishes
    assert events[:4] == ["start en->es", "encode", "did you mean", "result"]
    assert {thread for _, thread in log[:4]} == {threading.get_ident()}
    assert response.translations == expected.translations and "es" in response.translations
    assert [(r.passage_id, r.score) for r in response.results] == [
        (r.passage_id, r.score) for r in expected.results
    ]


@needs_apertium
def test_a_spanish_query_is_sent_to_apertium_before_did_you_mean_is_worked_out(
    english_engine: SearchEngine, translator: ApertiumTranslator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query that reads as Spanish can be embedded only through its translation:
    the search's own thread sends it into Apertium, works out "did you mean" while
    the stages translate, reads the translation, then embeds that."""
    log: list[tuple[str, int]] = []
    assert english_engine.given_encoder is not None
    engine = SearchEngine(
        english_engine.index_dir,
        encoder=_LoggedEncoder(english_engine.given_encoder, log),  # type: ignore[arg-type]
        translator=_RecordingStarts(translator, log),  # type: ignore[arg-type]
    )
    suggest = Suggester.suggest

    def logged_suggest(self: Suggester, *args: object) -> object:
        log.append(("did you mean", threading.get_ident()))
        return suggest(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Suggester, "suggest", logged_suggest)
    response = engine.search(SearchRequest(query="¿Quién atacó al secruity jefe?"))
    assert [event for event, _ in log][:4] == ["start es->en", "did you mean", "result", "encode"]
    assert {thread for _, thread in log[:4]} == {threading.get_ident()}
    assert response.did_you_mean is not None
    assert "security" in response.did_you_mean.query
    assert "en" in response.translations
