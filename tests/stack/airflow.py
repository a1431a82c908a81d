"""Airflow 3 with the CeleryExecutor as local processes, configured from ``docker-compose.yml``.

api-server, scheduler, dag-processor, triggerer and N Celery workers, each with the environment
its compose service declares (``compose.py`` moves hosts and paths onto this machine), plus the
few settings this harness changes on purpose (``HARNESS_SETTINGS``). Set-up runs as the compose
``airflow-init`` and ``newswire-init`` services do. ``AirflowAPI`` talks to the REST API with a
JWT from ``/auth/token``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from newswire import es_local

from . import compose
from .services import ESCluster, Postgres, Process, Redis, StartFailed, secret, wait_for

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
VENV_BIN = Path(sys.executable).parent
WORKER_SERVICE = "airflow-worker"
HEARTBEAT_TIMEOUT = 20  # seconds

# What the harness changes from the compose configuration, and why (docs/production.md).
HARNESS_SETTINGS = {
    # Airflow's default (300 s) would leave a killed worker's task "running" for five minutes
    # before the scheduler notices; the fault test kills one on purpose.
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    # Containers listen on every interface of their own network; here everything stays on loopback.
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
    # One API process instead of four: two cores are shared by everything here. On a busy machine
    # that process answered a worker's first execution-API call after 49 s: the default 5 s
    # timeout then kills a healthy task (supervisor SIGKILL) and only its retry runs.
    "AIRFLOW__API__WORKERS": "1",
    "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
    # Each container has its own host name; these processes share one machine (hostname.py).
    "AIRFLOW__CORE__HOSTNAME_CALLABLE": "newswire_stack_hostname.hostname",
}


@dataclass(kw_only=True)
class AirflowAPI:
    """The public REST API (``/api/v2``) with a JWT token from ``/auth/token``."""

    base_url: str
    username: str
    password: str
    _token: str | None = None

    def _client(self) -> httpx.Client:
        if self._token is None:
            answer = httpx.post(f"{self.base_url}/auth/token", json={"username": self.username, "password": self.password},
                                timeout=60)
            answer.raise_for_status()
            self._token = answer.json()["access_token"]
        return httpx.Client(base_url=f"{self.base_url}/api/v2", headers={"Authorization": f"Bearer {self._token}"},
                            timeout=60)

    def request(self, method: str, path: str, **kwargs) -> dict:
        with self._client() as client:
            answer = client.request(method, path, **kwargs)
        if answer.status_code == 401:  # expired token: one fresh one
            self._token = None
            with self._client() as client:
                answer = client.request(method, path, **kwargs)
        answer.raise_for_status()
        return answer.json() if answer.content else {}

    def health(self) -> dict:
        return httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=30).json()

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str) -> str:
        return self.request("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": {}})["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})["task_instances"]

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> list[dict]:
        """Every try of one task instance, finished ones and the current one (hostname, state)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries"
        return self.request("GET", path)["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value"):
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.request("GET", path, params={"deserialize": True})["value"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float, on_poll=None) -> str:
        """Poll until the run is finished; ``on_poll(task_instances)`` sees every poll."""
        deadline = time.monotonic() + timeout
        state = "unknown"
        while time.monotonic() < deadline:
            try:
                state = self.run_state(dag_id, run_id)
                if on_poll is not None:
                    on_poll(self.task_instances(dag_id, run_id))
            except httpx.TransportError:  # a busy api-server missed one answer: ask again
                time.sleep(5)
                continue
            if state in ("success", "failed"):
                return state
            time.sleep(2)
        raise TimeoutError(f"DAG run {dag_id} {run_id} not finished within {timeout:.0f} s (state {state})")


@dataclass(kw_only=True)
class Airflow:
    """The running Airflow services; ``workers`` by host name."""

    root: Path
    api: AirflowAPI
    spec: dict  # the compose file, interpolated with the generated .env
    localizer: compose.Localizer
    base: dict[str, str]  # what every process gets besides its service's environment
    es: ESCluster
    services: dict[str, Process] = field(default_factory=dict)
    workers: dict[str, Process] = field(default_factory=dict)
    init_output: str = ""

    @classmethod
    def start(cls, *, postgres: Postgres, redis: Redis, es: ESCluster, dotenv: dict[str, str], sources: Path,
              workers: int = 2, compose_file: Path = COMPOSE_FILE) -> "Airflow":
        """Initialise as airflow-init and newswire-init do, then start every service.

        Args:
            dotenv: the variables a ``.env`` would hold (secrets, ES_PASSWORD, ...).
            sources: the sources file to mount as ``/opt/airflow/config/sources.yaml``.
        """
        spec = compose.load(dotenv, compose_file)
        root = Path(tempfile.mkdtemp(prefix="newswire-stack-airflow-"))
        config_dir = root / "config"
        config_dir.mkdir()
        shutil.copy(sources, config_dir / "sources.yaml")
        pythonpath = root / "python"
        pythonpath.mkdir()
        shutil.copy(Path(__file__).with_name("hostname.py"), pythonpath / "newswire_stack_hostname.py")
        api_port, health_port = es_local.free_port(), es_local.free_port()
        named_volumes = {"certs": es.root, "airflow-logs": root / "logs"}
        own_binds = {"./config": config_dir}
        paths = {
            target: own_binds.get(source) or named_volumes.get(source) or (REPO / source).resolve()
            for target, source in compose.volume_map(spec, WORKER_SERVICE).items()
        }
        localizer = compose.Localizer(
            services={
                "postgres": {5432: postgres.port},
                "redis": {6379: redis.port},
                "airflow-apiserver": {8080: api_port},
                **{node.name: {9200: node.http_port} for node in es.nodes},
            },
            paths=paths,
        )
        base = {
            "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(root),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(pythonpath),
            "AIRFLOW_HOME": str(root / "home"),
            # The image's AIRFLOW_HOME is /opt/airflow: its dags/ and logs/ are the mounts above.
            "AIRFLOW__CORE__DAGS_FOLDER": localizer.value("/opt/airflow/dags"),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": localizer.value("/opt/airflow/logs"),
            **HARNESS_SETTINGS,
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health_port),
        }
        init_env = compose.service_environment(spec, "airflow-init")
        api = AirflowAPI(base_url=f"http://127.0.0.1:{api_port}", username=init_env["_AIRFLOW_WWW_USER_USERNAME"],
                         password=init_env["_AIRFLOW_WWW_USER_PASSWORD"])
        airflow = cls(root=root, api=api, spec=spec, localizer=localizer, base=base, es=es)
        try:
            airflow._init()
            airflow._start_service("airflow-apiserver", ["--host", "127.0.0.1", "--port", str(api_port)])
            wait_for("the Airflow API", lambda: api.health()["metadatabase"]["status"] == "healthy",
                     process=airflow.services["airflow-apiserver"])
            airflow._start_service("airflow-scheduler")
            airflow._start_service("airflow-dag-processor")
            airflow._start_service("airflow-triggerer", ["--skip-serve-logs"])
            for n in range(workers):
                airflow.start_worker(f"worker-{n + 1}")
            airflow.wait_healthy()
        except BaseException:
            airflow.stop()
            raise
        return airflow

    def environment(self, service: str, hostname: str | None = None) -> dict[str, str]:
        """A process's environment: the service's compose environment, localised, over ``base``."""
        declared = compose.service_environment(self.spec, service)
        local = self.localizer.environment(declared, list(self.spec["services"]))
        return {**self.base, **local, "NEWSWIRE_STACK_HOSTNAME": hostname or service}

    def command(self, service: str) -> list[str]:
        return compose.service_command(self.spec, service)

    def _run(self, service: str, cmd: list[str], timeout: float = 600) -> str:
        proc = subprocess.run(cmd, env=self.environment(service), capture_output=True, text=True, timeout=timeout,
                              cwd=str(self.root))
        if proc.returncode != 0:
            raise RuntimeError(f"{service}: {' '.join(cmd[:3])} failed ({proc.returncode}):\n"
                               f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc.stdout + proc.stderr

    def _init(self) -> None:
        """What the image entrypoint does for airflow-init, then the newswire-init service's command."""
        env = compose.service_environment(self.spec, "airflow-init")
        airflow = str(VENV_BIN / "airflow")
        if env.get("_AIRFLOW_DB_MIGRATE") == "true":
            self._run("airflow-init", [airflow, "db", "migrate"])
        if env.get("_AIRFLOW_WWW_USER_CREATE") == "true":
            self._run("airflow-init", [airflow, "users", "create", "--username", env["_AIRFLOW_WWW_USER_USERNAME"],
                                       "--password", env["_AIRFLOW_WWW_USER_PASSWORD"], "--role", "Admin",
                                       "--firstname", "Stack", "--lastname", "Admin", "--email", "admin@example.org"])
        self.es.wait_green()  # the nodes start meanwhile; newswire-init waits for them as in compose
        self.newswire_init()

    def newswire_init(self) -> str:
        """Run the newswire-init service's command (idempotent: templates, indices, aliases)."""
        command = self.command("newswire-init")
        self.init_output = self._run("newswire-init", [str(VENV_BIN / command[0]), *command[1:]])
        return self.init_output

    def _start_service(self, service: str, extra: list[str] = ()) -> None:
        self.services[service] = Process.start(
            service, [str(VENV_BIN / "airflow"), *self.command(service), *extra], env=self.environment(service),
            log_file=self.root / f"{service}.log", cwd=self.root,
        )

    def start_worker(self, hostname: str) -> Process:
        """Start (or restart) the Celery worker ``hostname``, then wait until it is ready."""
        process = Process.start(
            hostname,
            [str(VENV_BIN / "airflow"), *self.command(WORKER_SERVICE), "--celery-hostname", hostname, "--skip-serve-logs"],
            env=self.environment(WORKER_SERVICE, hostname), log_file=self.root / f"{hostname}.log", cwd=self.root,
        )
        self.workers[hostname] = process
        wait_for(f"Celery worker {hostname}", lambda: f"{hostname} ready" in process.log_file.read_text(errors="replace"),
                 process=process)
        return process

    def wait_healthy(self) -> dict:
        def healthy():
            for process in (*self.services.values(), *self.workers.values()):
                process.check_alive()
            health = self.api.health()
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            return health if all(health.get(p, {}).get("status") == "healthy" for p in parts) else None

        return wait_for("Airflow's scheduler, triggerer and dag-processor", healthy)

    def wait_dag(self, dag_id: str, timeout: float = 300) -> dict:
        """Wait until the dag-processor has parsed ``dag_id`` (the API then knows it)."""
        def parsed():
            try:
                return self.api.request("GET", f"/dags/{dag_id}")
            except httpx.HTTPStatusError as err:
                if err.response.status_code != 404:
                    raise
            # A DAG file that fails to import never appears: say why at once instead of timing out.
            errors = self.api.request("GET", "/importErrors").get("import_errors", [])
            if errors:
                raise StartFailed("DAG import errors: " + "; ".join(e.get("stack_trace", "")[-800:] for e in errors))
            return None

        return wait_for(f"DAG {dag_id} parsed", parsed, timeout=timeout, interval=2,
                        process=self.services["airflow-dag-processor"])

    def processes(self) -> list[Process]:
        return [*self.services.values(), *self.workers.values()]

    def stop(self) -> None:
        for process in reversed(self.processes()):
            if process.alive():
                os.killpg(process.pid, 15)  # all at once: Celery's warm shutdown and the rest in parallel
        for process in reversed(self.processes()):
            process.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def dotenv_for(es: ESCluster, postgres: Postgres, redis: Redis, *, worker_concurrency: int = 2) -> dict[str, str]:
    """The ``.env`` a user would write for the bundled stack: every secret set, Kibana left out."""
    from cryptography.fernet import Fernet

    return {
        "POSTGRES_PASSWORD": postgres.password,
        "REDIS_PASSWORD": redis.password,
        "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW_API_SECRET_KEY": secret(),
        "AIRFLOW_JWT_SECRET": secret(),
        "AIRFLOW_ADMIN_PASSWORD": secret(),
        "ES_USERNAME": es.newswire[0],
        "ES_PASSWORD": es.newswire[1],
        "ELASTIC_PASSWORD": secret(),
        "KIBANA_URL": "",  # no Kibana here: newswire-init skips the saved objects
        "AIRFLOW_WORKER_CONCURRENCY": str(worker_concurrency),
    }
