"""The harness's reading of docker-compose.yml: the Airflow services' settings moved to 127.0.0.1.

Plain unit tests (no stack): they run in every ``pytest``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stack import compose

REPO = Path(__file__).resolve().parents[2]
DOTENV = {"POSTGRES_PASSWORD": "pg1", "REDIS_PASSWORD": "rd1", "AIRFLOW_FERNET_KEY": "fk", "AIRFLOW_API_SECRET_KEY": "sk",
          "AIRFLOW_JWT_SECRET": "jw", "AIRFLOW_ADMIN_PASSWORD": "ad", "ES_PASSWORD": "es1", "KIBANA_URL": ""}
LOCAL = compose.Localizer(
    services={"postgres": {5432: 15432}, "redis": {6379: 16379}, "airflow-apiserver": {8080: 18080},
              "es01": {9200: 19201}, "es02": {9200: 19202}, "es03": {9200: 19203}},
    paths={"/opt/airflow/certs": Path("/tmp/certs"), "/opt/airflow/config": Path("/tmp/config"),
           "/opt/airflow/dags": REPO / "dags"},
)


def test_a_blank_secret_is_refused():
    with pytest.raises(compose.ComposeError, match="POSTGRES_PASSWORD"):
        compose.load({**DOTENV, "POSTGRES_PASSWORD": ""}, REPO / "docker-compose.yml")


def test_the_compose_airflow_settings_move_to_local_ports_and_paths():
    spec = compose.load(DOTENV, REPO / "docker-compose.yml")
    env = LOCAL.environment(compose.service_environment(spec, "airflow-worker"), list(spec["services"]))
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://airflow:pg1@127.0.0.1:15432/airflow"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:rd1@127.0.0.1:16379/0"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["ELASTICSEARCH_URL"] == "https://127.0.0.1:19201,https://127.0.0.1:19202,https://127.0.0.1:19203"
    assert env["ELASTICSEARCH_CA_CERTS"] == "/tmp/certs/ca/ca.crt"
    assert env["NEWSWIRE_SOURCES"] == "/tmp/config/sources.yaml"
    conn = compose.json.loads(env["AIRFLOW_CONN_NEWSWIRE_ES"])
    assert conn["host"] == "127.0.0.1:19201,127.0.0.1:19202,127.0.0.1:19203" and "port" not in conn
    assert (conn["schema"], conn["login"], conn["password"]) == ("https", "newswire", "es1")


def test_a_setting_naming_an_unmapped_service_or_path_is_an_error():
    with pytest.raises(compose.ComposeError, match="kibana"):
        LOCAL.environment({"KIBANA_URL": "http://kibana:5601"}, ["kibana", "postgres"])
    with pytest.raises(compose.ComposeError, match="container path"):
        LOCAL.environment({"X": "/opt/airflow/plugins/x"}, ["postgres"])


def test_a_connection_host_with_its_own_port_keeps_it():
    from airflow.sdk import Connection

    from newswire.airflow_support import settings_from_connection
    from newswire.settings import Settings

    conn = Connection(conn_id="newswire_es", conn_type="elasticsearch", host="127.0.0.1:9201,127.0.0.1:9202",
                      schema="https", login="newswire", password="pw")
    settings = settings_from_connection(Settings(es_ca_certs="/ca.crt"), conn)
    assert settings.es_hosts == ["https://127.0.0.1:9201", "https://127.0.0.1:9202"]
    shared = Connection(conn_id="newswire_es", conn_type="elasticsearch", host="es01,es02", port=9200, schema="https")
    assert settings_from_connection(Settings(), shared).es_hosts == ["https://es01:9200", "https://es02:9200"]
