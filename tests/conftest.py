"""Session fixtures: a real Elasticsearch, an isolated Airflow, unique index prefixes.

Airflow reads its configuration when first imported, so the environment is set here,
at import time of this file, before any test module imports Airflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # for `support.*`

from support.webserver import web_server  # noqa: E402,F401  (fixture: a real HTTP server on 127.0.0.1)

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="newswire-airflow-")
os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
)

_FACTS: dict[str, str] = {}  # printed in the terminal summary: what the run really talked to


def pytest_terminal_summary(terminalreporter) -> None:
    if _FACTS:
        terminalreporter.section("newswire: real services used")
        for key, value in _FACTS.items():
            terminalreporter.write_line(f"{key}: {value}")


def record_fact(key: str, value: str) -> None:
    """Note a fact (server version, DAG run state) for the end-of-run summary."""
    _FACTS[key] = value


@pytest.fixture(scope="session")
def es_url():
    """URL of a real Elasticsearch: ``$ELASTICSEARCH_URL``, else a server started for this session."""
    from newswire import es_local

    if url := os.environ.get("ELASTICSEARCH_URL"):
        record_fact("Elasticsearch", f"{es_local.server_version(url)} at {url} (external)")
        yield url
        return
    with es_local.running_server(heap="768m") as info:
        record_fact("Elasticsearch", f"{es_local.server_version(info.url)} at {info.url} (started by the tests)")
        yield info.url


@pytest.fixture(scope="session")
def es(es_url):
    """An Elasticsearch client for the session's server; also exported as the Airflow connection."""
    from elasticsearch import Elasticsearch
    from urllib.parse import urlsplit

    parts = urlsplit(es_url)
    os.environ["ELASTICSEARCH_URL"] = es_url
    os.environ["AIRFLOW_CONN_NEWSWIRE_ES"] = (
        f'{{"conn_type": "elasticsearch", "host": "{parts.hostname}", "port": {parts.port}, "schema": "{parts.scheme}"}}'
    )
    client = Elasticsearch(es_url, request_timeout=60)
    yield client
    client.close()


@pytest.fixture
def index_prefix(es):
    """A unique index prefix per test; its indices are deleted afterwards."""
    prefix = f"t-{uuid.uuid4().hex[:8]}"
    yield prefix
    es.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True, expand_wildcards="all")
    templates = es.indices.get_index_template(name=f"{prefix}-*", ignore=404).body.get("index_templates", [])
    for template in templates:
        es.indices.delete_index_template(name=template["name"])
    components = es.cluster.get_component_template(name=f"{prefix}-*", ignore=404).body.get("component_templates", [])
    for component in components:
        es.cluster.delete_component_template(name=component["name"])


@pytest.fixture(scope="session")
def airflow_db():
    """Migrate the session's isolated Airflow SQLite DB once."""
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        check=True, capture_output=True, env=os.environ.copy(), timeout=300,
    )
    return _AIRFLOW_HOME
