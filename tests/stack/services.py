"""Postgres, Redis and a three-node secured Elasticsearch cluster as local processes on 127.0.0.1.

Each server runs in its own process group with a parent-death signal (``es_local``'s
start-up helpers), as the unprivileged ``es_local.ES_USER`` when the caller is root
(Postgres and Elasticsearch refuse to run as root), in a throwaway directory removed on stop.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from newswire import es_local

POSTGRES_BIN = Path(os.environ.get("NEWSWIRE_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
# The quick JIT tier only: a third of the start-up CPU on a busy machine, fast enough for tests.
FAST_START_JVM = "-XX:TieredStopAtLevel=1"
START_TIMEOUT = 600.0  # seconds; a busy 2-core machine starts three JVMs slowly


def secret() -> str:
    """A password of letters and digits (compose values are interpolated into URLs and JSON)."""
    return secrets.token_hex(16)


def _user():
    return es_local._unprivileged_user() if os.geteuid() == 0 else None


def _chown_tree(path: Path, user) -> None:
    if user is None:
        return
    for dirpath, _, filenames in os.walk(path):
        os.chown(dirpath, user.pw_uid, user.pw_gid)
        for name in filenames:
            os.chown(Path(dirpath) / name, user.pw_uid, user.pw_gid)


@dataclass(kw_only=True)
class Process:
    """A started server process; ``stop`` ends its whole process group."""

    name: str
    popen: subprocess.Popen
    log_file: Path

    @classmethod
    def start(cls, name: str, cmd: list[str], *, env: dict[str, str], log_file: Path, cwd: Path,
              user=None) -> "Process":
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as log:
            if user is not None:
                os.chown(log_file, user.pw_uid, user.pw_gid)
            popen = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=str(cwd),
                preexec_fn=es_local._preexec(user, die_with_parent=True),
            )
        return cls(name=name, popen=popen, log_file=log_file)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        return es_local._log_tail(self.log_file, lines)

    def check_alive(self) -> None:
        if not self.alive():
            raise RuntimeError(f"{self.name} exited with code {self.popen.returncode}:\n{self.tail()}")

    def _descendants(self) -> list:
        import psutil

        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return []

    def kill(self) -> None:
        """SIGKILL to the process, its group and every descendant at once: all of it dies mid-work.

        Descendants that moved to a group of their own (a task's process) die too, as they would
        with their container.
        """
        descendants = self._descendants()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        for child in descendants:
            with contextlib.suppress(Exception):
                child.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=30)

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM to the group, SIGKILL what is left (descendants included) after ``timeout`` seconds."""
        descendants = self._descendants()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (es_local._group_alive(self.pid) or any(_running(c) for c in descendants)):
            self.popen.poll()
            time.sleep(0.2)
        self.kill()
        for child in descendants:
            with contextlib.suppress(Exception):
                child.kill()


def _running(process) -> bool:
    """Whether a psutil process still runs (a zombie waiting for its reaper does not)."""
    import psutil

    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class StartFailed(RuntimeError):
    """Raised by a readiness check that knows waiting longer cannot help (it ends ``wait_for`` at once)."""


def wait_for(what: str, check, timeout: float = START_TIMEOUT, interval: float = 0.5, process: Process | None = None):
    """Call ``check`` until it returns a truthy value; ``process`` dying ends the wait at once."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None:
            process.check_alive()
        try:
            result = check()
            if result:
                return result
        except StartFailed:
            raise
        except Exception as err:  # noqa: BLE001 - not up yet; the last error is reported on timeout
            last = err
        time.sleep(interval)
    detail = f"\n{process.tail()}" if process is not None else ""
    raise TimeoutError(f"{what} not ready within {timeout:.0f} s (last error: {last}){detail}")


# ---------------------------------------------------------------------------------- Postgres


@dataclass(kw_only=True)
class Postgres:
    """A throwaway cluster (``initdb``) with one database, ``postgres`` in the foreground."""

    root: Path
    port: int
    user: str
    password: str
    database: str
    process: Process

    @classmethod
    def start(cls, *, user: str = "airflow", password: str, database: str = "airflow") -> "Postgres":
        if not (POSTGRES_BIN / "initdb").exists():
            raise RuntimeError(f"no initdb under {POSTGRES_BIN}: apt-get install postgresql (or set NEWSWIRE_POSTGRES_BIN)")
        system_user = _user()
        root = Path(tempfile.mkdtemp(prefix="newswire-stack-pg-"))
        os.chmod(root, 0o755)
        (root / "pwfile").write_text(password + "\n")
        _chown_tree(root, system_user)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": str(root)}
        init = subprocess.run(
            [str(POSTGRES_BIN / "initdb"), "-D", str(root / "data"), "-U", user, f"--pwfile={root / 'pwfile'}",
             "--auth=scram-sha-256", "--encoding=UTF8", "--no-sync"],
            env=env, capture_output=True, text=True, timeout=300,
            preexec_fn=es_local._preexec(system_user, die_with_parent=True),
        )
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        port = es_local.free_port()
        process = Process.start(
            "postgres",
            [str(POSTGRES_BIN / "postgres"), "-D", str(root / "data"), "-p", str(port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={root}",
             "-c", "fsync=off", "-c", "max_connections=200"],
            env=env, log_file=root / "postgres.log", cwd=root, user=system_user,
        )
        pg = cls(root=root, port=port, user=user, password=password, database=database, process=process)
        wait_for("postgres", lambda: pg._connect("postgres").close() or True, process=process)
        conn = pg._connect("postgres")
        try:
            conn.autocommit = True
            conn.cursor().execute(f'CREATE DATABASE "{database}"')
        finally:
            conn.close()
        return pg

    def _connect(self, database: str):
        import psycopg2

        return psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                                dbname=database, connect_timeout=5)

    def version(self) -> str:
        conn = self._connect(self.database)
        try:
            cur = conn.cursor()
            cur.execute("SHOW server_version")
            return f"PostgreSQL {cur.fetchone()[0]}"
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.stop()  # SIGTERM: postgres' "smart" shutdown, then SIGKILL after the timeout
        shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------------------------- Redis


@dataclass(kw_only=True)
class Redis:
    """``redis-server`` with a password, no persistence."""

    root: Path
    port: int
    password: str
    process: Process

    @classmethod
    def start(cls, *, password: str) -> "Redis":
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: apt-get install redis-server")
        system_user = _user()
        root = Path(tempfile.mkdtemp(prefix="newswire-stack-redis-"))
        _chown_tree(root, system_user)
        port = es_local.free_port()
        process = Process.start(
            "redis",
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--requirepass", password, "--dir", str(root)],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, log_file=root / "redis.log", cwd=root,
            user=system_user,
        )
        redis = cls(root=root, port=port, password=password, process=process)
        wait_for("redis", lambda: redis._client().ping(), process=process)
        return redis

    def _client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=5)

    def version(self) -> str:
        return f"Redis {self._client().info('server')['redis_version']}"

    def stop(self) -> None:
        self.process.stop()
        shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------------------------- Elasticsearch

# What the pipeline needs and nothing more: the role docs/production.md describes and
# es-setup creates in the bundled cluster (here from the file realm, roles.yml).
NEWSWIRE_ROLE = {
    "cluster": ["monitor", "manage_index_templates"],
    "indices": [{"names": ["{prefix}-*"], "privileges": ["all"]}],
}


@dataclass(kw_only=True)
class ESNode:
    name: str
    http_port: int
    transport_port: int
    home: Path  # this node's directory: config/, data/, logs/
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.http_port}"


@dataclass(kw_only=True)
class ESCluster:
    """Three nodes of one cluster, security on, TLS on HTTP and transport, users from the file realm."""

    root: Path
    nodes: list[ESNode]
    ca_file: Path  # the generated CA, readable by every local process
    admin: tuple[str, str]  # a file-realm superuser, for the tests' own checks and clean-up
    newswire: tuple[str, str]  # the least-privilege user the pipeline logs in as
    heap: str
    distribution: Path
    java_home: Path
    _user: object = field(repr=False, default=None)

    @classmethod
    def start(cls, *, nodes: int = 3, heap: str = "512m", newswire_user: str = "newswire",
              newswire_password: str, index_prefix: str = "newswire", wait: bool = True) -> "ESCluster":
        """Generate the certificates and users, start the nodes and (with ``wait``) wait for green."""
        import trustme

        java_home = es_local.find_java()
        distribution = es_local.ensure_distribution()
        system_user = _user()
        root = Path(tempfile.mkdtemp(prefix="newswire-stack-es-"))
        os.chmod(root, 0o755)
        ca = trustme.CA(organization_name="newswire stack harness")
        ca_file = root / "ca" / "ca.crt"
        ca_file.parent.mkdir()
        ca.cert_pem.write_to_path(str(ca_file))
        cluster = cls(
            root=root, ca_file=ca_file, admin=("stack_admin", secret()), newswire=(newswire_user, newswire_password),
            heap=heap, distribution=distribution, java_home=java_home, _user=system_user,
            nodes=[ESNode(name=f"es{i + 1:02d}", http_port=es_local.free_port(), transport_port=es_local.free_port(),
                          home=root / f"es{i + 1:02d}") for i in range(nodes)],
        )
        role = {"newswire": {**NEWSWIRE_ROLE, "indices": [
            {**spec, "names": [n.format(prefix=index_prefix) for n in spec["names"]]} for spec in NEWSWIRE_ROLE["indices"]
        ]}}
        first_config = None
        for node in cluster.nodes:
            config = node.home / "config"
            shutil.copytree(distribution / "config", config)
            (node.home / "data").mkdir()
            (node.home / "logs").mkdir()
            # One certificate per node, for both HTTP and transport (trustme's carry server and client use).
            cert = ca.issue_cert("127.0.0.1", "localhost", node.name)
            cert.private_key_pem.write_to_path(str(config / "node.key"))
            cert.cert_chain_pems[0].write_to_path(str(config / "node.crt"))
            shutil.copy(ca_file, config / "ca.crt")
            (config / "roles.yml").write_text(yaml.safe_dump(role), encoding="utf-8")
            if first_config is None:
                cluster._users_tool(config, "useradd", cluster.admin[0], "-p", cluster.admin[1], "-r", "superuser")
                cluster._users_tool(config, "useradd", newswire_user, "-p", newswire_password, "-r", "newswire")
                first_config = config
            else:
                for name in ("users", "users_roles"):
                    shutil.copy(first_config / name, config / name)
            _chown_tree(node.home, system_user)
        try:
            for node in cluster.nodes:
                cluster.start_node(node, wait=False)
            if wait:
                cluster.wait_green()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _users_tool(self, config: Path, *args: str) -> None:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ES_JAVA_HOME": str(self.java_home),
               "ES_PATH_CONF": str(config), "ES_JAVA_OPTS": f"-Xms64m -Xmx64m {FAST_START_JVM}"}
        proc = subprocess.run([str(self.distribution / "bin" / "elasticsearch-users"), *args], env=env,
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"elasticsearch-users {args[0]} failed:\n{proc.stdout}\n{proc.stderr}")

    def _settings(self, node: ESNode) -> dict[str, str]:
        return {
            "cluster.name": "newswire-stack",
            "node.name": node.name,
            "network.host": "127.0.0.1",
            "http.port": str(node.http_port),
            "transport.port": str(node.transport_port),
            "discovery.seed_hosts": ",".join(f"127.0.0.1:{n.transport_port}" for n in self.nodes),
            "cluster.initial_master_nodes": ",".join(n.name for n in self.nodes),
            "path.data": str(node.home / "data"),
            "path.logs": str(node.home / "logs"),
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "action.destructive_requires_name": "false",
            "xpack.security.enabled": "true",
            "xpack.security.autoconfiguration.enabled": "false",
            "xpack.security.http.ssl.enabled": "true",
            "xpack.security.http.ssl.key": "node.key",
            "xpack.security.http.ssl.certificate": "node.crt",
            "xpack.security.http.ssl.certificate_authorities": "ca.crt",
            "xpack.security.transport.ssl.enabled": "true",
            "xpack.security.transport.ssl.key": "node.key",
            "xpack.security.transport.ssl.certificate": "node.crt",
            "xpack.security.transport.ssl.certificate_authorities": "ca.crt",
            "xpack.security.transport.ssl.verification_mode": "full",
        }

    def start_node(self, node: ESNode, *, wait: bool = True) -> None:
        """Start (or restart, on its data) one node; with ``wait``, until it has joined the cluster."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ES_JAVA_HOME": str(self.java_home),
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap} -XX:-HeapDumpOnOutOfMemoryError {FAST_START_JVM}",
            "HOME": str(node.home),
            "ES_PATH_CONF": str(node.home / "config"),
        }
        cmd = [str(self.distribution / "bin" / "elasticsearch"), *(f"-E{k}={v}" for k, v in self._settings(node).items())]
        node.process = Process.start(node.name, cmd, env=env, log_file=node.home / "console.log", cwd=node.home,
                                     user=self._user)
        if wait:
            wait_for(f"{node.name} joining", lambda: node.name in self.node_names(), process=node.process)

    def stop_node(self, node: ESNode) -> None:
        """A graceful stop (SIGTERM), keeping the node's data for ``start_node``."""
        if node.process is not None:
            node.process.stop()
            node.process = None

    def client(self, user: tuple[str, str] | None = None, **kwargs):
        from elasticsearch import Elasticsearch

        return Elasticsearch([n.url for n in self.nodes], basic_auth=user or self.admin, ca_certs=str(self.ca_file),
                             request_timeout=30, retry_on_timeout=True, max_retries=5, **kwargs)

    def node_names(self) -> set[str]:
        with self.client() as es:
            return {n["name"] for n in es.cat.nodes(format="json", h="name").body}

    def health(self, **params) -> dict:
        with self.client() as es:
            return es.cluster.health(**params).body

    def wait_green(self, timeout: float = START_TIMEOUT) -> dict:
        def green():
            health = self.health(wait_for_status="green", timeout="5s")
            return health if health["status"] == "green" and health["number_of_nodes"] == len(self.nodes) else None

        running = [n.process for n in self.nodes if n.process is not None]
        deadline = time.monotonic() + timeout
        while True:
            for process in running:
                process.check_alive()
            try:
                return wait_for("a green cluster", green, timeout=min(15.0, max(1.0, deadline - time.monotonic())))
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise

    def version(self) -> str:
        with self.client() as es:
            nodes = es.nodes.info(filter_path="nodes.*.version").body["nodes"]
        return next(iter(nodes.values()))["version"]

    def processes(self) -> list[Process]:
        return [n.process for n in self.nodes if n.process is not None]

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.process.pid, signal.SIGTERM)  # all three at once, then wait
        for node in self.nodes:
            self.stop_node(node)
        shutil.rmtree(self.root, ignore_errors=True)
