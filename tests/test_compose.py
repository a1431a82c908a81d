"""docker-compose.yml: valid, and right once interpolated as `docker compose config` would.

No Docker engine runs here, so ``support.compose`` applies Compose's interpolation and profile
rules; the tests then hold the resolved configuration to what the services need: secrets that
must be set, TLS end to end with the generated CA, the least-privilege users, dependencies that
can be met with and without the bundled cluster. ``docker/es-setup.sh`` runs for real against
a local HTTP server standing in for the cluster.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from newswire import es_local
from newswire.kibana import KibanaTarget
from newswire.kibana.validate import OLDEST_KIBANA, version_tuple
from newswire.settings import Settings
from support import compose
from support.compose import InterpolationError, interpolate
from support.jsonapi import JsonApiServer

REPO = compose.REPO
COMPOSE = compose.COMPOSE_FILE
ES_NODES = ("es01", "es02", "es03")
AIRFLOW_SERVICES = ("airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-worker", "airflow-triggerer", "newswire-init")

#: What a user puts in .env for the bundled stack (every blank of .env.example filled in).
BUNDLED = {
    **compose.env_file(REPO / ".env.example"),
    "ELASTIC_PASSWORD": "elasticpw1", "KIBANA_SYSTEM_PASSWORD": "kibanasys1",
    "KIBANA_ENCRYPTION_KEY": "k" * 32, "ES_PASSWORD": "newswirepw1", "KIBANA_PASSWORD": "kibanaimp1",
    "AIRFLOW_ADMIN_PASSWORD": "adminpw1", "AIRFLOW_FERNET_KEY": "x" * 43 + "=",
    "AIRFLOW_JWT_SECRET": "jwtsecret1", "AIRFLOW_API_SECRET_KEY": "apisecret1",
    "POSTGRES_PASSWORD": "pgpw1", "REDIS_PASSWORD": "redispw1",
}
#: An existing cluster, profiles off: none of the bundled cluster's own secrets, no Kibana.
EXISTING = {
    key: value for key, value in BUNDLED.items()
    if key not in {"ELASTIC_PASSWORD", "KIBANA_SYSTEM_PASSWORD", "KIBANA_ENCRYPTION_KEY", "KIBANA_PASSWORD"}
} | {"COMPOSE_PROFILES": "", "ES_HOSTS": "es1.example.internal,es2.example.internal", "ES_CA_CERTS": "",
     "KIBANA_URL": ""}


def _raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bundled() -> dict:
    return compose.resolve(BUNDLED)


# ---- the interpolation helper follows Compose's rules ----------------------------------------

@pytest.mark.parametrize(("text", "variables", "expected"), [
    ("${A}", {"A": "1"}, "1"),
    ("$A/x", {"A": "1"}, "1/x"),
    ("${A}", {}, ""),
    ("${A:-d}", {}, "d"), ("${A:-d}", {"A": ""}, "d"), ("${A:-d}", {"A": "v"}, "v"),
    ("${A-d}", {}, "d"), ("${A-d}", {"A": ""}, ""), ("${A-d}", {"A": "v"}, "v"),
    ("${A:+r}", {"A": ""}, ""), ("${A:+r}", {"A": "v"}, "r"), ("${A+r}", {"A": ""}, "r"),
    ("${A?e}", {"A": ""}, ""),
    ("$${A} $$B", {"A": "1"}, "${A} $B"),
    ("${A:-${B:-in}}", {}, "in"), ("${A:-${B:?never}}", {"A": "v"}, "v"),
    ('{"port": ${P:-9200}}', {}, '{"port": 9200}'),
])
def test_interpolation_follows_the_compose_rules(text, variables, expected):
    assert interpolate(text, variables) == expected


@pytest.mark.parametrize(("text", "variables"), [
    ("${A:?set A}", {}), ("${A:?set A}", {"A": ""}), ("${A?set A}", {}), ("a $ b", {}), ("${A", {}),
])
def test_interpolation_errors_like_compose(text, variables):
    with pytest.raises(InterpolationError):
        interpolate(text, variables)


# ---- the file itself --------------------------------------------------------------------------

def _check_schema(path: Path) -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(checker), "--builtin-schema", "vendor.compose-spec", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_and_its_interpolated_result_are_valid_against_the_compose_spec(bundled, tmp_path):
    _check_schema(COMPOSE)
    resolved = tmp_path / "resolved.yml"
    resolved.write_text(yaml.safe_dump(compose.load(BUNDLED)), encoding="utf-8")
    _check_schema(resolved)


def test_one_elasticsearch_version_for_compose_kibana_and_tests():
    services = _raw()["services"]
    es_tag = services["es01"]["image"].rsplit(":", 1)[1]
    for name in (*ES_NODES, "es-setup"):
        assert services[name]["image"] == f"docker.elastic.co/elasticsearch/elasticsearch:{es_tag}"
    assert services["kibana"]["image"] == f"docker.elastic.co/kibana/kibana:{es_tag}"
    assert es_tag.startswith("9.")
    assert es_local.es_version(COMPOSE) == es_tag  # the version the tests' server is started with
    assert len(set(re.findall(r"elasticsearch/elasticsearch:(\S+)", COMPOSE.read_text()))) == 1
    # the Kibana objects must import into the Kibana pinned here
    assert version_tuple(OLDEST_KIBANA) <= version_tuple(es_tag)


def test_compose_states_its_minimum_version_and_the_host_setting():
    text = COMPOSE.read_text()
    assert "depends_on.required" in text and re.search(r"Docker Compose 2\.20\.2 or newer", text)
    assert "vm.max_map_count" in text


# ---- secrets ----------------------------------------------------------------------------------

SECRET_NAME = re.compile(r"PASSWORD|SECRET|_KEY$")


def test_env_example_leaves_every_secret_blank_and_names_every_required_variable():
    example = compose.env_file(REPO / ".env.example")
    secrets = {name for name in example if SECRET_NAME.search(name)}
    assert {"ELASTIC_PASSWORD", "ES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_API_SECRET_KEY",
            "POSTGRES_PASSWORD", "REDIS_PASSWORD"} <= secrets
    assert {name: example[name] for name in secrets if example[name]} == {}
    uncommented = re.sub(r"^\s*#.*$", "", COMPOSE.read_text(), flags=re.MULTILINE)
    required = set(re.findall(r"\$\{(\w+):\?", uncommented))
    assert required <= set(example)
    with pytest.raises(InterpolationError, match="required variable"):
        compose.load(example)  # `cp .env.example .env && docker compose up` refuses to start


@pytest.mark.parametrize("name", ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
                                  "AIRFLOW_API_SECRET_KEY", "AIRFLOW_ADMIN_PASSWORD", "ES_PASSWORD"])
def test_a_blank_secret_stops_compose(name):
    with pytest.raises(InterpolationError, match=f"required variable {name} "):
        compose.load(BUNDLED | {name: ""})


def test_airflow_services_share_their_secrets(bundled):
    services = bundled["services"]
    shared = {"AIRFLOW__API__SECRET_KEY": "apisecret1", "AIRFLOW__API_AUTH__JWT_SECRET": "jwtsecret1",
              "AIRFLOW__CORE__FERNET_KEY": BUNDLED["AIRFLOW_FERNET_KEY"]}
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert {key: env[key] for key in shared} == shared, name
    env = services["airflow-worker"]["environment"]
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://airflow:pgpw1@postgres/airflow"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pgpw1"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:redispw1@redis:6379/0"
    redis = services["redis"]
    assert redis["environment"]["REDISCLI_AUTH"] == "redispw1" and "--requirepass" in redis["command"][-1]


def test_the_airflow_environment_is_one_shared_block(bundled):
    """The stack harness reads x-airflow-common's environment: every Airflow service must use exactly it."""
    common = bundled["x-airflow-common"]["environment"]
    assert common["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    extras = {"airflow-init": {"_AIRFLOW_DB_MIGRATE", "_AIRFLOW_WWW_USER_CREATE", "_AIRFLOW_WWW_USER_USERNAME",
                               "_AIRFLOW_WWW_USER_PASSWORD"},
              "airflow-worker": {"DUMB_INIT_SETSID"},
              "newswire-init": {"KIBANA_URL", "KIBANA_USERNAME", "KIBANA_PASSWORD"}}
    for name in AIRFLOW_SERVICES:
        env = bundled["services"][name]["environment"]
        assert {k: v for k, v in env.items() if k in common} == common, name
        assert set(env) - set(common) == extras.get(name, set()), name


# ---- Elasticsearch: TLS, users, memory --------------------------------------------------------

def test_the_pipeline_connects_over_tls_as_the_newswire_user_to_every_node(bundled):
    env = bundled["services"]["airflow-worker"]["environment"]
    conn = json.loads(env["AIRFLOW_CONN_NEWSWIRE_ES"])
    assert conn == {"conn_type": "elasticsearch", "host": "es01,es02,es03", "port": 9200, "schema": "https",
                    "login": "newswire", "password": "newswirepw1"}
    settings = Settings.from_env(env)
    assert settings.es_hosts == [f"https://{node}:9200" for node in ES_NODES]
    assert settings.es_username == "newswire" and settings.es_password == "newswirepw1"
    assert set(conn["host"].split(",")) <= set(bundled["services"])
    # the CA file es-setup writes into the certs volume, mounted where the setting points
    assert settings.es_ca_certs == "/opt/airflow/certs/ca/ca.crt"
    assert "certs:/opt/airflow/certs:ro" in bundled["services"]["airflow-worker"]["volumes"]
    assert "certs:/usr/share/elasticsearch/config/certs" in bundled["services"]["es-setup"]["volumes"]
    assert "ELASTIC_PASSWORD" not in json.dumps({n: bundled["services"][n] for n in AIRFLOW_SERVICES})
    assert "elasticpw1" not in json.dumps({n: bundled["services"][n] for n in AIRFLOW_SERVICES})


def test_every_node_runs_tls_on_http_and_transport_with_its_own_certificate(bundled):
    for node in ES_NODES:
        service = bundled["services"][node]
        env = service["environment"]
        assert env["node.name"] == node and env["xpack.security.enabled"] == "true"
        for layer in ("http", "transport"):
            assert env[f"xpack.security.{layer}.ssl.enabled"] == "true"
            assert env[f"xpack.security.{layer}.ssl.certificate"] == f"certs/{node}/{node}.crt"
            assert env[f"xpack.security.{layer}.ssl.key"] == f"certs/{node}/{node}.key"
            assert env[f"xpack.security.{layer}.ssl.certificate_authorities"] == "certs/ca/ca.crt"
        assert set(env["discovery.seed_hosts"].split(",")) == set(ES_NODES) - {node}
        assert env["cluster.initial_master_nodes"] == ",".join(ES_NODES)
        assert "https://localhost:9200" in service["healthcheck"]["test"][-1]
        # memlock only together with bootstrap.memory_lock, which needs it
        assert (env.get("bootstrap.memory_lock") == "true") == ("memlock" in service.get("ulimits", {}))
    assert bundled["services"]["es-setup"]["environment"]["ES_NODES"].split() == list(ES_NODES)


def test_kibana_logs_in_as_kibana_system_over_tls(bundled):
    env = bundled["services"]["kibana"]["environment"]
    assert env["ELASTICSEARCH_USERNAME"] == "kibana_system"
    assert env["ELASTICSEARCH_PASSWORD"] == "kibanasys1"
    assert json.loads(env["ELASTICSEARCH_HOSTS"]) == [f"https://{node}:9200" for node in ES_NODES]
    assert env["ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES"] == "config/certs/ca/ca.crt"
    assert "certs:/usr/share/kibana/config/certs:ro" in bundled["services"]["kibana"]["volumes"]
    assert len(env["XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY"]) >= 32


def test_every_long_running_service_has_a_memory_limit(bundled):
    for name, service in bundled["services"].items():
        assert re.fullmatch(r"\d+[kmg]", str(service.get("mem_limit", ""))), name
    worker = bundled["services"]["airflow-worker"]
    assert worker["environment"]["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "4" and worker["mem_limit"] == "4g"


def test_plugins_are_installed_not_mounted():
    for name in AIRFLOW_SERVICES:
        volumes = compose.load(BUNDLED)["services"][name]["volumes"]
        assert not any(v.split(":")[1] == "/opt/airflow/plugins" for v in volumes), name
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    assert "COPY --chown=airflow:root plugins/newswire" in dockerfile and "no rebuild" not in dockerfile


# ---- dependencies and profiles ---------------------------------------------------------------

def _check_dependencies(config: dict) -> None:
    services = config["services"]
    for name, service in services.items():
        for target, spec in compose.dependencies(service).items():
            if target not in services:
                assert spec["required"] is False, f"{name} needs {target}, which is not started"
                continue
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy; it has no healthcheck"
            if spec["condition"] == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{target} must run once for {name} to wait for it"


def test_bundled_stack_dependencies(bundled):
    _check_dependencies(bundled)
    deps = {name: compose.dependencies(service) for name, service in bundled["services"].items()}
    assert deps["airflow-worker"]["newswire-init"]["condition"] == "service_completed_successfully"
    assert deps["newswire-init"]["es-setup"] == {"condition": "service_completed_successfully", "required": False}
    assert deps["newswire-init"]["kibana"] == {"condition": "service_healthy", "required": False}
    assert deps["kibana"]["es-setup"]["condition"] == "service_completed_successfully"
    for node in ES_NODES:
        assert deps[node]["es-setup"]["condition"] == "service_healthy"  # certificates exist
    init_env = bundled["services"]["newswire-init"]["environment"]
    target = KibanaTarget.from_env(Settings.from_env(init_env), environ=init_env)
    assert target.url == "http://kibana:5601" and target.auth == ("newswire_kibana", "kibanaimp1")


def test_existing_cluster_with_profiles_off_needs_none_of_the_bundled_secrets():
    config = compose.resolve(EXISTING)
    services = config["services"]
    assert not {"es-setup", "kibana", *ES_NODES} & set(services)
    _check_dependencies(config)
    env = services["airflow-worker"]["environment"]
    settings = Settings.from_env(env)
    assert settings.es_hosts == ["https://es1.example.internal:9200", "https://es2.example.internal:9200"]
    assert settings.es_ca_certs is None  # ES_CA_CERTS= : the system trust store, not the absent bundled CA
    assert json.loads(env["AIRFLOW_CONN_NEWSWIRE_ES"])["host"] == EXISTING["ES_HOSTS"]
    init_env = services["newswire-init"]["environment"]
    assert init_env["KIBANA_URL"] == ""  # set but empty: no Kibana, newswire setup skips it
    assert KibanaTarget.from_env(settings, environ=init_env) is None


def test_kibana_url_unset_means_the_bundled_kibana_and_empty_means_none():
    unset = compose.load({k: v for k, v in BUNDLED.items() if k != "KIBANA_URL"})
    assert unset["services"]["newswire-init"]["environment"]["KIBANA_URL"] == "http://kibana:5601"
    empty = compose.load(BUNDLED | {"KIBANA_URL": ""})
    assert empty["services"]["newswire-init"]["environment"]["KIBANA_URL"] == ""


# ---- Airflow's plugins folder ----------------------------------------------------------------

_LOAD_PLUGINS = """
import json, sys
from airflow._shared.plugins_manager.plugins_manager import _load_plugins_from_plugin_directory
for folder, syntax in json.loads(sys.argv[1]):
    plugins, errors = _load_plugins_from_plugin_directory(folder, ignore_file_syntax=syntax)
    loaded = sorted(m for m in sys.modules if m in {"settings", "config", "models", "pipeline"})
    print(json.dumps({"plugins": len(plugins), "errors": len(errors), "top_level_modules": loaded}))
"""


def test_airflowignore_keeps_airflow_from_importing_the_package_as_plugins(tmp_path):
    """Airflow's own plugin-folder loader, in a child process (it imports what it finds as top-level modules)."""
    bare = tmp_path / "bare"  # the same folder without the ignore file
    bare.mkdir()
    (bare / "newswire").symlink_to(REPO / "plugins" / "newswire")
    # [core] dag_ignore_file_syntax, which the loader follows, both ways; the bare folder last
    runs = [(str(REPO / "plugins"), "glob"), (str(REPO / "plugins"), "regexp"), (str(bare), "glob")]
    result = subprocess.run([sys.executable, "-c", _LOAD_PLUGINS, json.dumps(runs)], capture_output=True, text=True,
                            timeout=600, env={**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow")}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    glob, regexp, without = (json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"plugins"'))
    assert glob == regexp == {"plugins": 0, "errors": 0, "top_level_modules": []}
    assert without["top_level_modules"] and without["errors"] > 0


# ---- docker/es-setup.sh against a stand-in cluster -------------------------------------------

def _es_setup(url: str, tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess:
    """Run the script with the environment compose gives es-setup, pointed at ``url``."""
    env = {k: str(v) for k, v in compose.load(BUNDLED)["services"]["es-setup"]["environment"].items()}
    env |= {"ES_URL": url, "CERTS_DIR": str(tmp_path), "ES_SETUP_SKIP_CERTS": "1", "ES_SETUP_INTERVAL": "0.05",
            "ES_SETUP_ATTEMPTS": "4", "PATH": os.environ["PATH"], **overrides}
    return subprocess.run(["bash", str(REPO / "docker" / "es-setup.sh")], env=env, capture_output=True,
                          text=True, timeout=60)


def _secured(request):
    """Like a node with security on: no credentials, no answer."""
    if "Authorization" not in request.headers:
        return 401, {"error": {"reason": "missing authentication credentials for REST request [/]"}}
    return 200, {}


def test_es_setup_creates_the_least_privilege_users(tmp_path):
    with JsonApiServer(_secured, statuses=[503]) as cluster:
        result = _es_setup(cluster.url, tmp_path)
    assert result.returncode == 0, result.stderr
    calls = {(r.method, r.path.split("?")[0]): r.json() for r in cluster.requests}
    assert calls[("POST", "/_security/user/kibana_system/_password")] == {"password": "kibanasys1"}
    assert calls[("PUT", "/_security/role/newswire")] == {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [{"names": ["newswire-*"], "privileges": ["all"]}],
    }
    assert calls[("PUT", "/_security/user/newswire")] == {"password": "newswirepw1", "roles": ["newswire"]}
    kibana_role = calls[("PUT", "/_security/role/newswire_kibana")]
    assert "indices" not in kibana_role and kibana_role["applications"][0]["resources"] == ["space:default"]
    assert calls[("PUT", "/_security/user/newswire_kibana")] == {"password": "kibanaimp1", "roles": ["newswire_kibana"]}
    # not up (503), up and asking for credentials (401), then each call once, as elastic:elasticpw1
    assert [r.path for r in cluster.requests[:2]] == ["/", "/"] and len(cluster.requests) == 8
    assert {r.headers.get("Authorization") for r in cluster.requests[2:]} == {"Basic ZWxhc3RpYzplbGFzdGljcHcx"}


def test_es_setup_stops_at_once_on_a_permanent_error(tmp_path):
    with JsonApiServer(statuses=[401, 401]) as cluster:  # up; then the elastic password is wrong
        started = time.monotonic()
        result = _es_setup(cluster.url, tmp_path, ES_SETUP_INTERVAL="5")
    assert result.returncode == 1 and "GET /_cluster/health" in result.stderr and "answered 401" in result.stderr
    assert len(cluster.requests) == 2 and time.monotonic() - started < 5  # no retry of a wrong password


def test_es_setup_gives_up_after_its_attempts(tmp_path):
    with JsonApiServer(statuses=[503] * 10) as cluster:
        result = _es_setup(cluster.url, tmp_path)
    assert result.returncode == 1 and "no Elasticsearch at" in result.stderr and "after 4 attempts" in result.stderr
    assert len(cluster.requests) == 4
    with JsonApiServer(_secured, statuses=[401] + [503] * 10) as cluster:  # up, then the cluster never forms
        result = _es_setup(cluster.url, tmp_path)
    assert result.returncode == 1 and "no answer after 4 attempts" in result.stderr
    assert len(cluster.requests) == 5


def test_es_setup_refuses_a_cluster_without_security(tmp_path):
    with JsonApiServer() as cluster:  # answers 200 without credentials
        result = _es_setup(cluster.url, tmp_path)
    assert result.returncode == 1 and "security is off" in result.stderr and len(cluster.requests) == 1


@pytest.mark.parametrize(("name", "value", "message"), [
    ("ELASTIC_PASSWORD", "", "set ELASTIC_PASSWORD"),
    ("KIBANA_SYSTEM_PASSWORD", "", "set KIBANA_SYSTEM_PASSWORD"),
    ("ES_PASSWORD", "", "set ES_PASSWORD"),
    ("KIBANA_PASSWORD", "", "set KIBANA_PASSWORD"),
    ("KIBANA_ENCRYPTION_KEY", "short", "at least 32"),
])
def test_es_setup_refuses_blank_bundled_secrets_before_any_call(tmp_path, name, value, message):
    with JsonApiServer() as cluster:
        result = _es_setup(cluster.url, tmp_path, **{name: value})
    assert result.returncode == 1 and message in result.stderr and cluster.requests == []
