"""Settings come from the environment, with sane defaults when it says nothing."""

from pathlib import Path

import pytest

from newswire.settings import DEFAULT_SOURCES, Settings


def test_defaults_when_the_environment_is_empty():
    settings = Settings.from_env({})
    assert settings.es_url == "http://127.0.0.1:9200"
    assert settings.index_prefix == "newswire"
    assert settings.sources_path == DEFAULT_SOURCES
    assert settings.es_username is None and settings.es_api_key is None


def test_environment_overrides():
    settings = Settings.from_env({
        "ELASTICSEARCH_URL": "https://es.example.org:9243", "ELASTICSEARCH_USERNAME": "newswire",
        "ELASTICSEARCH_PASSWORD": "s3cret", "NEWSWIRE_INDEX_PREFIX": "nw", "NEWSWIRE_SOURCES": "/etc/nw.yaml",
    })
    assert (settings.es_url, settings.es_username, settings.es_password) == ("https://es.example.org:9243", "newswire", "s3cret")
    assert settings.index_prefix == "nw" and settings.sources_path == Path("/etc/nw.yaml")


def test_retention_days_from_the_environment():
    assert Settings.from_env({}).retention_days is None
    assert Settings.from_env({"NEWSWIRE_RETENTION_DAYS": " 30 "}).retention_days == 30
    with pytest.raises(ValueError, match="NEWSWIRE_RETENTION_DAYS must be a whole number, not '30d'"):
        Settings.from_env({"NEWSWIRE_RETENTION_DAYS": "30d"})
    with pytest.raises(ValueError, match="NEWSWIRE_RETENTION_DAYS must be 0 or more"):
        Settings.from_env({"NEWSWIRE_RETENTION_DAYS": "-7"})
