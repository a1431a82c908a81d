"""The compose topology, run for real: Celery workers on Postgres and Redis, three secured nodes.

One stack for the session (``harness.Stack``): a local news site of real pages (four feeds,
four stories reaching two of them), Postgres, Redis, three Elasticsearch nodes with TLS and
file-realm users, Airflow's api-server, scheduler, dag-processor, triggerer and two Celery
workers configured from docker-compose.yml. Every test empties the indices, triggers the
ingestion DAG through the REST API and audits the articles index: the clean run is the
baseline the fault runs must match, article for article, with no article written twice.

"Written twice" is counted from ``_version``: a run's writes to an article are its one index
operation plus, at most, the reconcile task's one update (the count it returns). So the sum of
``_version`` over the index minus the document count must equal what reconcile updated.
"""

from __future__ import annotations

import ipaddress
import time

import psutil
import pytest

from conftest import record_fact
from stack.harness import DAG_ID, Stack

pytestmark = [pytest.mark.stack, pytest.mark.timeout(3600)]
PAGE_DELAY = 0.5  # seconds per page: each ingest task runs long enough to be interrupted
RUN_TIMEOUT = 900


@pytest.fixture(scope="session")
def stack():
    with Stack.running(delay=PAGE_DELAY) as running:
        env = running.airflow.environment("airflow-worker", "worker-1")
        record_fact("Stack: Postgres", running.postgres.version())
        record_fact("Stack: Redis", running.redis.version())
        with running.es.client() as es:
            nodes = es.cat.nodes(format="json", h="name").body
        record_fact("Stack: Elasticsearch", f"{running.es.version()}, {len(nodes)} nodes of one cluster, security on "
                    f"(TLS on HTTP and transport, file realm), pipeline user {running.es.newswire[0]!r}")
        record_fact("Stack: Airflow", f"{env['AIRFLOW__CORE__EXECUTOR']}, workers {', '.join(running.airflow.workers)}, "
                    f"started in {running.started_seconds:.0f} s")
        yield running


def _record_hosts(stack: Stack) -> None:
    record_fact("Stack: hosts that ran mapped ingest_source", ", ".join(sorted(stack.hosts_seen)) or "(none)")


@pytest.fixture(scope="session")
def baseline(stack):
    """A clean run (no fault) on empty indices, and what it indexed."""
    stack.reset()
    run = stack.run_ingest(timeout=RUN_TIMEOUT)
    audit = stack.audit()
    _record_hosts(stack)
    return run, audit


def _extra_writes(audit, run) -> int:
    return audit.writes - audit.count - run.merged


def test_clean_run_over_the_compose_topology(stack, baseline):
    run, audit = baseline
    assert run.state == "success", [(ti["task_id"], ti["map_index"], ti["state"]) for ti in run.task_instances]
    mapped = run.mapped()
    assert len(mapped) == len(stack.site.feeds) and all(ti["state"] == "success" for ti in mapped)
    # two workers with two slots each and four mapped tasks queued together: both must take some
    assert {ti["hostname"] for ti in mapped} == set(stack.airflow.workers)
    # every page of the site was fetched, and everything indexed is one of them, once
    paths = {url.removeprefix(stack.web.base_url) for url in stack.site.urls}
    assert all(stack.web.hits(path) >= 1 for path in paths)
    assert audit.count == len(audit.versions) >= len(stack.site.pages) - 6  # a few pages may be judged non-articles
    assert set(audit.urls.values()) <= stack.site.urls
    assert _extra_writes(audit, run) == 0
    assert run.merged > 0  # the shared stories, fetched by two tasks at once, were merged by reconcile
    # the cluster: three nodes, green, every newswire index with one replica
    with stack.es.client() as es:
        assert es.cluster.health()["number_of_nodes"] == 3
        replicas = es.indices.get_settings(index="newswire-*", name="index.number_of_replicas",
                                           expand_wildcards="all", include_defaults=True).body
        assert replicas and all(s["settings"]["index"]["number_of_replicas"] == "1" for s in replicas.values())
        assert es.cluster.health(index="newswire-*")["status"] == "green"


def test_security_least_privilege_and_loopback(stack, baseline):
    import httpx
    from elasticsearch import AuthorizationException

    node = stack.es.nodes[0]
    assert httpx.get(node.url, verify=str(stack.es.ca_file)).status_code == 401  # anonymous: refused
    with pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port
        httpx.get(node.url.replace("https://", "http://"), timeout=10)
    with pytest.raises(httpx.ConnectError):  # a certificate the generated CA did not sign
        httpx.get(node.url, timeout=10)
    with stack.es.client(stack.es.newswire) as es:
        assert es.security.authenticate()["roles"] == ["newswire"]
        assert es.count(index="newswire-articles")["count"] > 0
        with pytest.raises(AuthorizationException):
            es.indices.create(index="elsewhere")
        with pytest.raises(AuthorizationException):
            es.cluster.put_settings(persistent={"cluster.routing.allocation.enable": "all"})
    # the tasks used the connection's TLS settings, not the superuser
    env = stack.airflow.environment("airflow-worker", "worker-1")
    assert '"login": "newswire"' in env["AIRFLOW_CONN_NEWSWIRE_ES"]
    assert env["ELASTICSEARCH_CA_CERTS"] == str(stack.es.ca_file)
    # every port any stack process listens on is on 127.0.0.1
    roots = [*stack.airflow.processes(), *stack.es.processes(), stack.postgres.process, stack.redis.process]
    listening = set()
    for root in roots:
        proc = psutil.Process(root.pid)
        for member in (proc, *proc.children(recursive=True)):
            try:
                conns = member.net_connections(kind="inet")
            except psutil.Error:
                continue
            listening |= {(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN}
    assert listening and all(_loopback_v4(ip) for ip, _ in listening), listening


def _loopback_v4(ip: str) -> bool:
    """127.0.0.1, also as Java writes an IPv4 bind on a dual-stack socket (``::ffff:127.0.0.1``)."""
    address = ipaddress.ip_address(ip)
    return str(getattr(address, "ipv4_mapped", None) or address) == "127.0.0.1"


def _note(name: str, baseline_audit, audit, run) -> None:
    lost = set(baseline_audit.versions) - set(audit.versions)
    extra = set(audit.versions) - set(baseline_audit.versions)
    line = (f"{len(audit.versions)} articles (baseline {len(baseline_audit.versions)}): {len(lost)} lost, "
            f"{len(extra)} unexpected, {_extra_writes(audit, run)} indexed twice; reconcile updated {run.merged}; "
            f"run {run.seconds:.0f} s")
    record_fact(f"Stack fault: {name}", line)
    print(line)


def test_worker_killed_mid_task_is_retried_on_the_other_worker(stack, baseline):
    _, baseline_audit = baseline
    stack.reset()
    victim: dict = {}

    def kill_when_running(task_instances):
        if victim:
            return
        for ti in task_instances:
            if ti["task_id"] == "ingest_source" and ti["state"] == "running" and ti.get("hostname") in stack.airflow.workers:
                started = ti.get("start_date")
                victim.update(map_index=ti["map_index"], host=ti["hostname"], started=started)
                time.sleep(3)  # let it get into its fetching and indexing
                stack.airflow.workers[ti["hostname"]].kill()
                return

    try:
        run = stack.run_ingest(timeout=RUN_TIMEOUT, on_poll=kill_when_running)
    finally:
        if victim:
            stack.airflow.start_worker(victim["host"])
    _record_hosts(stack)
    assert victim, "no mapped ingest_source was seen running"
    assert run.state == "success"
    tries = stack.airflow.api.tries(DAG_ID, run.run_id, "ingest_source", victim["map_index"])
    assert len(tries) >= 2, tries
    assert tries[0]["hostname"] == victim["host"] and tries[0]["state"] == "failed"
    survivor = (set(stack.airflow.workers) - {victim["host"]}).pop()
    assert tries[-1]["state"] == "success" and tries[-1]["hostname"] == survivor
    audit = stack.audit()
    _note("Celery worker killed (kill -9)", baseline_audit, audit, run)
    assert set(audit.versions) == set(baseline_audit.versions)  # 0 lost, nothing extra
    assert audit.count == len(audit.versions)
    assert _extra_writes(audit, run) == 0  # 0 indexed twice


def test_es_node_stopped_mid_run_then_cluster_green_again(stack, baseline):
    _, baseline_audit = baseline
    stack.reset()
    stopped: dict = {}

    def stop_when_running(task_instances):
        if stopped or not any(ti["task_id"] == "ingest_source" and ti["state"] == "running" for ti in task_instances):
            return
        with stack.es.client() as es:
            primary = es.cat.shards(index="newswire-articles", format="json", h="prirep,node").body
        name = next(s["node"] for s in primary if s["prirep"] == "p")  # the node holding the articles primary
        node = next(n for n in stack.es.nodes if n.name == name)
        stack.es.stop_node(node)
        stopped.update(node=node, at=time.monotonic())

    try:
        run = stack.run_ingest(timeout=RUN_TIMEOUT, on_poll=stop_when_running)
        assert stopped, "no mapped ingest_source was seen running"
        with stack.es.client() as es:
            assert es.cluster.health()["number_of_nodes"] == 2  # the run finished with the node still down
    finally:
        if stopped:
            stack.es.start_node(stopped["node"])
    _record_hosts(stack)
    assert run.state == "success", [(ti["task_id"], ti["map_index"], ti["state"], ti["try_number"])
                                    for ti in run.task_instances]
    health = stack.es.wait_green()
    assert health["number_of_nodes"] == 3 and health["status"] == "green"
    audit = stack.audit()
    _note(f"Elasticsearch node {stopped['node'].name} stopped", baseline_audit, audit, run)
    assert set(audit.versions) == set(baseline_audit.versions)
    assert audit.count == len(audit.versions)
    assert _extra_writes(audit, run) == 0
