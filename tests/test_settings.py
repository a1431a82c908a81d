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


@pytest.mark.parametrize(("url", "hosts"), [
    ("http://127.0.0.1:9200", ["http://127.0.0.1:9200"]),
    ("https://a:9200, https://b:9201", ["https://a:9200", "https://b:9201"]),
    ("https://es01,es02,es03:9200", ["https://es01:9200", "https://es02:9200", "https://es03:9200"]),
    ("https://es01,es02", ["https://es01", "https://es02"]),
])
def test_elasticsearch_url_may_list_several_nodes(url, hosts):
    assert Settings.from_env({"ELASTICSEARCH_URL": url}).es_hosts == hosts


def test_the_airflow_connection_keeps_the_environments_ca_and_api_key(monkeypatch):
    """A connection without extras (as docker-compose.yml gives it) must not drop ELASTICSEARCH_CA_CERTS."""
    from newswire.airflow_support import settings_from_airflow

    monkeypatch.setenv("AIRFLOW_CONN_NEWSWIRE_ES", '{"conn_type": "elasticsearch", "host": "es01,es02", "port": 9200, '
                       '"schema": "https", "login": "newswire", "password": "pw12345"}')
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://elsewhere:9200")
    monkeypatch.setenv("ELASTICSEARCH_CA_CERTS", "/opt/airflow/certs/ca/ca.crt")
    monkeypatch.setenv("ELASTICSEARCH_API_KEY", "a2V5")
    settings = settings_from_airflow()
    assert settings.es_hosts == ["https://es01:9200", "https://es02:9200"]  # the connection's address wins
    assert (settings.es_username, settings.es_password) == ("newswire", "pw12345")
    assert (settings.es_ca_certs, settings.es_api_key) == ("/opt/airflow/certs/ca/ca.crt", "a2V5")

    monkeypatch.setenv("AIRFLOW_CONN_NEWSWIRE_ES", '{"conn_type": "elasticsearch", "host": "es01", "port": 9200, '
                       '"schema": "https", "extra": {"ca_certs": "/other/ca.crt", "api_key": "b3RoZXI="}}')
    settings = settings_from_airflow()
    assert (settings.es_ca_certs, settings.es_api_key) == ("/other/ca.crt", "b3RoZXI=")  # extras, when given, win
