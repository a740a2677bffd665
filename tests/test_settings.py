"""Settings: read once, validated, and a bad value names itself and the fix."""

from __future__ import annotations

import pytest

from indexer.errors import SettingsError
from indexer.settings import IndexerSettings, default_model_ref
from search.settings import ServiceSettings

pytestmark = pytest.mark.fast


def test_defaults() -> None:
    indexer = IndexerSettings.from_env({})
    assert indexer.model_ref == default_model_ref()
    assert not indexer.allow_downloads and indexer.translation == "auto"
    service = ServiceSettings.from_env({})
    assert (service.host, service.port, service.depth, service.rrf_k) == (
        "127.0.0.1",
        8000,
        100,
        10,
    )
    assert service.query_translation


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SEARCH_BATCH_SIZE": "lots"}, "SEARCH_BATCH_SIZE='lots'"),
        ({"SEARCH_ALLOW_DOWNLOADS": "maybe"}, "SEARCH_ALLOW_DOWNLOADS='maybe'"),
        ({"SEARCH_TRANSLATION": "sometimes"}, "SEARCH_TRANSLATION='sometimes'"),
        ({"SEARCH_MULTILINGUAL_MODEL": "perhaps"}, "SEARCH_MULTILINGUAL_MODEL='perhaps'"),
    ],
)
def test_bad_indexer_settings_name_value_and_fix(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        IndexerSettings.from_env(env)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SEARCH_PORT": "http"}, "SEARCH_PORT='http' is not an integer in 0..65535; try 8000"),
        ({"SEARCH_RELOAD_SECONDS": "-1"}, "SEARCH_RELOAD_SECONDS='-1' is not a number"),
        ({"SEARCH_DEPTH": "5"}, "SEARCH_DEPTH='5'"),
        ({"SEARCH_RRF_K": "0"}, "SEARCH_RRF_K='0'"),
        ({"SEARCH_QUERY_TRANSLATION": "yes"}, "SEARCH_QUERY_TRANSLATION='yes'"),
        ({"SEARCH_PROCESSES": "0"}, "SEARCH_PROCESSES='0' is not an integer in 1..64; try 1"),
    ],
)
def test_bad_service_settings_name_value_and_fix(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        ServiceSettings.from_env(env)


def test_settings_are_frozen() -> None:
    settings = ServiceSettings.from_env({})
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]
