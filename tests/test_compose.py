"""docker-compose.yml: valid against the Compose specification, one Elasticsearch version everywhere."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from newswire import es_local

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_compose_file_is_valid_against_the_compose_spec():
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_elasticsearch_version_for_compose_kibana_and_tests():
    services = _compose()["services"]
    es_tag = services["elasticsearch"]["image"].rsplit(":", 1)[1]
    assert services["elasticsearch"]["image"] == f"docker.elastic.co/elasticsearch/elasticsearch:{es_tag}"
    assert services["kibana"]["image"] == f"docker.elastic.co/kibana/kibana:{es_tag}"
    assert services["es-setup"]["image"] == services["elasticsearch"]["image"]
    assert es_tag.startswith("9.")
    assert es_local.es_version(COMPOSE) == es_tag  # the version the tests' server is started with
    assert len(set(re.findall(r"elasticsearch/elasticsearch:(\S+)", COMPOSE.read_text()))) == 1


def test_stack_services_and_wiring():
    compose = _compose()
    services = compose["services"]
    assert {"elasticsearch", "kibana", "postgres", "redis", "airflow-apiserver", "airflow-scheduler",
            "airflow-dag-processor", "airflow-triggerer", "airflow-worker", "airflow-init",
            "newswire-init"} <= set(services)
    es_env = services["elasticsearch"]["environment"]
    assert es_env["xpack.security.enabled"] == "true" and "ELASTIC_PASSWORD" in es_env["ELASTIC_PASSWORD"]
    assert "KIBANA_PASSWORD" in services["kibana"]["environment"]["ELASTICSEARCH_PASSWORD"]
    worker = services["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker  # so --scale airflow-worker=N works
    assert worker["command"] == "celery worker"
    env = worker["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor" and "AIRFLOW_CONN_NEWSWIRE_ES" in env
    mounts = {v.split(":")[1] for v in worker["volumes"]}
    assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/config"} <= mounts
    init = services["newswire-init"]
    assert init["entrypoint"] == ["newswire"] and init["command"][0] == "setup" and "--kibana-url" in init["command"]
    assert (REPO / services["airflow-apiserver"]["build"]["dockerfile"]).is_file()


def test_env_example_names_every_required_variable():
    text = COMPOSE.read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = {line.split("=", 1)[0] for line in (REPO / ".env.example").read_text().splitlines()
               if "=" in line and not line.startswith("#")}
    assert required and required <= example
