"""The local Elasticsearch: a real server, and clear errors when the environment is wrong."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import REPO
from newswire import es_local


def test_real_server_indexes_and_finds_a_document(es, index_prefix):
    index = f"{index_prefix}-smoke"
    es.indices.create(index=index, mappings={"properties": {"body": {"type": "text"}, "n": {"type": "integer"}}})
    es.index(index=index, id="a1", document={"body": "Russian special forces led the assault on Palmyra", "n": 1})
    es.index(index=index, id="a2", document={"body": "Unemployment fell last year", "n": 2})
    es.indices.refresh(index=index)

    hits = es.search(index=index, query={"match": {"body": "palmyra assault"}})["hits"]

    assert hits["total"]["value"] == 1
    assert hits["hits"][0]["_id"] == "a1"
    assert es.indices.get_mapping(index=index)[index]["mappings"]["properties"]["n"]["type"] == "integer"


def test_server_version_is_the_one_pinned_in_compose(es_url):
    reported = es_local.server_version(es_url)
    assert reported.split(".")[0] == "9"
    if not os.environ.get("ELASTICSEARCH_URL_EXTERNAL"):
        assert reported == es_local.es_version()


def test_version_is_read_from_the_compose_image_tag(tmp_path):
    compose = tmp_path / "docker-compose.yml"
    compose.write_text("services:\n  es:\n    image: docker.elastic.co/elasticsearch/elasticsearch:9.1.2\n")
    assert es_local.es_version(compose) == "9.1.2"
    compose.write_text("services: {}\n")
    with pytest.raises(es_local.LocalESError, match="image tag"):
        es_local.es_version(compose)


def test_java_older_than_21_is_refused_with_a_clear_message(tmp_path):
    old = tmp_path / "jdk17"
    old.mkdir()
    (old / "release").write_text('JAVA_VERSION="17.0.15"\n')
    with pytest.raises(es_local.LocalESError, match="Java 21"):
        es_local.find_java({"ES_JAVA_HOME": str(old)})
    with pytest.raises(es_local.LocalESError, match="none was found"):
        es_local.find_java({}, jvm_root=tmp_path / "empty")


def test_java_21_plus_is_found_under_the_jvm_root(tmp_path):
    for name, version in (("jdk17", "17.0.1"), ("jdk21", "21.0.2"), ("jdk25", "25.0.1")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "release").write_text(f'JAVA_VERSION="{version}"\n')
    assert es_local.find_java({}, jvm_root=tmp_path).name == "jdk25"


def test_missing_maven_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSWIRE_CACHE", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn on it
    with pytest.raises(es_local.LocalESError, match="Maven"):
        es_local.ensure_distribution("9.0.0")


def test_busy_port_is_refused(es_url):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(es_local.LocalESError, match=f"port {port}.*in use"):
            es_local.start(port=port)


def test_a_server_that_fails_to_start_shows_its_log_tail(es_url):
    started = time.monotonic()
    with pytest.raises(es_local.LocalESError) as info:
        es_local.start(heap="1k", timeout=120)  # the JVM refuses a 1 KB heap
    assert "exited with code" in str(info.value)
    assert "heap" in str(info.value).lower()
    assert time.monotonic() - started < 120


def _es_processes_for(data_dir: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", data_dir], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_owner_leaves_no_server_or_lock_behind(tmp_path, sig, es_url):
    """A test run stopped by Ctrl-C (SIGINT) or killed outright takes its server with it."""
    script = tmp_path / "owner.py"
    script.write_text(textwrap.dedent(
        """
        import sys, time
        from newswire import es_local
        with es_local.running_server(heap="256m") as info:
            print(info.data_dir, flush=True)
            time.sleep(600)
        """
    ))
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    data_dir = owner.stdout.readline().strip()
    assert data_dir and Path(data_dir).exists()
    assert _es_processes_for(data_dir), "server should be running"

    owner.send_signal(sig)
    owner.wait(timeout=90)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _es_processes_for(data_dir):
        time.sleep(0.5)
    assert _es_processes_for(data_dir) == []
    if sig == signal.SIGKILL:  # nothing ran in the owner: the next start sweeps the leftovers
        es_local.remove_stale_data_dirs()
    assert not Path(data_dir).exists()
