"""A local, throwaway Elasticsearch server for development and tests.

The server is the ``integ-test-zip`` distribution that Elasticsearch publishes on
Maven Central, fetched with Maven (never from a hard-coded host) and cached. It has
no bundled JDK, so a Java 21+ is looked up; it refuses to run as root, so a root
caller runs it as an unprivileged system user. The version is read from the
Elasticsearch image tag in ``docker-compose.yml``: one place for both stacks.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from newswire.settings import PROJECT_ROOT

MAVEN_COORDINATES = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
ES_USER = "newswire-es"
DATA_DIR_PREFIX = "newswire-es-"
OWNER_FILE = "server.pid"
MIN_JAVA = 21
COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
_IMAGE_TAG = re.compile(r"elasticsearch/elasticsearch:(\d+\.\d+\.\d+)")


class LocalESError(RuntimeError):
    """A clear, user-facing reason why the local server cannot be obtained or started."""


@dataclass(kw_only=True)
class ServerInfo:
    """A running local server, as written to its state file."""

    pid: int
    port: int
    url: str
    version: str
    data_dir: str
    log_file: str


def es_version(compose_file: Path = COMPOSE_FILE) -> str:
    """The Elasticsearch version pinned by the image tag in ``docker-compose.yml``."""
    match = _IMAGE_TAG.search(compose_file.read_text(encoding="utf-8"))
    if not match:
        raise LocalESError(f"no elasticsearch/elasticsearch:<version> image tag in {compose_file}")
    return match.group(1)


def cache_dir() -> Path:
    """Where the unpacked server lives: readable by the unprivileged user when we are root."""
    if env := os.environ.get("NEWSWIRE_CACHE"):
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/cache/newswire")
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newswire"


def _java_major(java_home: Path) -> int | None:
    release = java_home / "release"
    if release.is_file():
        match = re.search(r'JAVA_VERSION="(\d+)', release.read_text(errors="replace"))
        if match:
            return int(match.group(1))
    java = java_home / "bin" / "java"
    if not java.exists():
        return None
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else None


def find_java(environ: dict[str, str] | None = None, jvm_root: Path = Path("/usr/lib/jvm")) -> Path:
    """A JDK home with Java 21+: ``ES_JAVA_HOME`` if set, else the newest under ``/usr/lib/jvm``."""
    env = os.environ if environ is None else environ
    if configured := env.get("ES_JAVA_HOME"):
        major = _java_major(Path(configured))
        if major is None or major < MIN_JAVA:
            raise LocalESError(f"ES_JAVA_HOME={configured} is not a Java {MIN_JAVA}+ JDK (found {major})")
        return Path(configured)
    found = []
    if jvm_root.is_dir():
        for home in jvm_root.iterdir():
            if home.is_symlink():
                continue
            major = _java_major(home)
            if major is not None and major >= MIN_JAVA:
                found.append((major, home))
    if not found:
        raise LocalESError(
            f"Elasticsearch needs Java {MIN_JAVA}+ and none was found: set ES_JAVA_HOME to a JDK {MIN_JAVA}+ "
            f"or install one under {jvm_root} (e.g. a Temurin JDK)"
        )
    return max(found)[1]


def _run_maven(version: str, out_dir: Path) -> Path:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalESError("Maven (mvn) is not installed: install it (Debian: apt-get install maven) and retry")
    cmd = [
        mvn, "-q", "-B", f"{MAVEN_DEPENDENCY_PLUGIN}:copy",
        f"-Dartifact={MAVEN_COORDINATES.format(version=version)}",
        f"-DoutputDirectory={out_dir}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    zip_path = out_dir / f"elasticsearch-{version}.zip"
    if proc.returncode != 0 or not zip_path.exists():
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        raise LocalESError(f"Maven could not fetch Elasticsearch {version}:\n{tail}")
    return zip_path


def ensure_distribution(version: str | None = None) -> Path:
    """The unpacked server for ``version``, fetched with Maven and cached on first use."""
    version = version or es_version()
    root = cache_dir()
    home = root / f"elasticsearch-{version}"
    if (home / "bin" / "elasticsearch").exists():
        return home
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        zip_path = _run_maven(version, Path(tmp))
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(tmp)
            for info in zf.infolist():  # zipfile drops the executable bits
                mode = info.external_attr >> 16
                if mode:
                    os.chmod(Path(tmp) / info.filename, mode)
        unpacked = Path(tmp) / f"elasticsearch-{version}"
        if not (unpacked / "bin" / "elasticsearch").exists():
            raise LocalESError(f"unexpected layout in {zip_path.name}: no bin/elasticsearch")
        for dirpath, dirnames, filenames in os.walk(unpacked):  # readable by the unprivileged user
            for name in (*dirnames, *filenames):
                path = Path(dirpath) / name
                os.chmod(path, path.stat().st_mode | 0o444 | (0o111 if path.is_dir() else 0))
        unpacked.chmod(0o755)
        unpacked.rename(home)
    os.chmod(root, 0o755)
    return home


def _unprivileged_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(ES_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ES_USER],
            check=True, capture_output=True,
        )
        return pwd.getpwnam(ES_USER)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _preexec(user: pwd.struct_passwd | None, die_with_parent: bool):
    """Runs in the child before exec: drop root, and optionally die with the parent."""

    def setup() -> None:
        os.setsid()
        if user is not None:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        if die_with_parent:  # set after setuid, which clears it
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return setup


def _get_json(url: str, timeout: float = 2.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def _log_tail(log_file: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(
    *,
    port: int | None = None,
    heap: str = "512m",
    version: str | None = None,
    die_with_parent: bool = True,
    timeout: float = 600.0,
    data_dir: Path | None = None,
) -> ServerInfo:
    """Start a single-node server on 127.0.0.1 and wait until it is healthy.

    Args:
        port: HTTP port; a free one when None. A busy port is an error, not a surprise.
        heap: JVM heap size (min = max).
        version: server version; defaults to the one pinned in docker-compose.yml.
        die_with_parent: stop the server when the calling thread's process dies (tests). Linux ties
            the parent-death signal to the thread that forked: start from the main thread, or pass False.
        timeout: seconds to wait for a healthy cluster.
        data_dir: restart on the data of an earlier server (stopped with ``keep_data=True``);
            a new throwaway directory when None.

    Raises:
        LocalESError: with the reason (no Java, no Maven, port in use, or the tail of the server log).
    """
    version = version or es_version()
    java_home = find_java()
    home = ensure_distribution(version)
    if port is None:
        port = free_port()
    elif port_in_use(port):
        raise LocalESError(f"port {port} on 127.0.0.1 is already in use; pick another with --port")
    user = _unprivileged_user() if os.geteuid() == 0 else None
    remove_stale_data_dirs()
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix=DATA_DIR_PREFIX))
        (data_dir / "data").mkdir()
        (data_dir / "logs").mkdir()
        shutil.copytree(home / "config", data_dir / "config")  # per-server config: the cached copy stays pristine
    if user is not None:
        for dirpath, _, filenames in os.walk(data_dir):
            os.chown(dirpath, user.pw_uid, user.pw_gid)
            for name in filenames:
                os.chown(Path(dirpath) / name, user.pw_uid, user.pw_gid)
    log_file = data_dir / "console.log"
    settings = {
        "discovery.type": "single-node",
        "network.host": "127.0.0.1",
        "http.port": str(port),
        "transport.port": str(free_port()),
        "path.data": str(data_dir / "data"),
        "path.logs": str(data_dir / "logs"),
        "cluster.name": "newswire-local",
        "cluster.routing.allocation.disk.threshold_enabled": "false",
        "action.destructive_requires_name": "false",
    }
    if (home / "modules" / "x-pack-security").is_dir():
        # Recent integ-test zips carry security; left unset, it auto-configures TLS and a keystore
        # whose settings the rest of the zip cannot read. The local server is plain HTTP on loopback.
        settings["xpack.security.enabled"] = "false"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ES_JAVA_HOME": str(java_home),
        "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap} -XX:-HeapDumpOnOutOfMemoryError",
        "HOME": str(data_dir),
        "ES_PATH_CONF": str(data_dir / "config"),
    }
    cmd = [str(home / "bin" / "elasticsearch"), *(f"-E{k}={v}" for k, v in settings.items())]
    with open(log_file, "wb") as log:
        if user is not None:
            os.chown(log_file, user.pw_uid, user.pw_gid)
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            cwd=str(data_dir), preexec_fn=_preexec(user, die_with_parent),
        )
    (data_dir / OWNER_FILE).write_text(str(proc.pid))
    info = ServerInfo(
        pid=proc.pid, port=port, url=f"http://127.0.0.1:{port}", version=version,
        data_dir=str(data_dir), log_file=str(log_file),
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = _log_tail(log_file)
            shutil.rmtree(data_dir, ignore_errors=True)
            raise LocalESError(f"Elasticsearch exited with code {proc.returncode} while starting:\n{tail}")
        try:
            health = _get_json(f"{info.url}/_cluster/health")
            if health.get("status") in ("green", "yellow"):
                return info
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.5)
    stop(info)
    raise LocalESError(f"Elasticsearch did not become healthy within {timeout:.0f} s:\n{_log_tail(log_file)}")


def remove_stale_data_dirs() -> list[Path]:
    """Delete data directories (and their node locks) left by servers whose process is gone.

    A test run killed with SIGKILL cannot clean up after itself; its server dies with it
    (parent-death signal) and the next start removes what is left.
    """
    removed = []
    for path in Path(tempfile.gettempdir()).glob(f"{DATA_DIR_PREFIX}*"):
        owner = path / OWNER_FILE
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            if time.time() - path.stat().st_mtime < 600:  # may be starting right now
                continue
            pid = None
        if pid is None or not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie waiting for its reaper counts as gone."""
    try:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop(info: ServerInfo, timeout: float = 60.0, keep_data: bool = False) -> None:
    """Stop the server's whole process group and remove its data directory (unless ``keep_data``)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _group_alive(info.pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(info.pid, os.WNOHANG)
        time.sleep(0.2)
    if _group_alive(info.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(info.pid, signal.SIGKILL)
        time.sleep(0.5)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(info.pid, os.WNOHANG)
    if keep_data:
        (Path(info.data_dir) / OWNER_FILE).unlink(missing_ok=True)
    else:
        shutil.rmtree(info.data_dir, ignore_errors=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def running_server(**kwargs) -> Iterator[ServerInfo]:
    """Start a server for the duration of a ``with`` block; always stopped on exit."""
    info = start(**kwargs)
    try:
        yield info
    finally:
        stop(info)


# State of a server started by the CLI (`newswire es start`), so `stop`/`status` can find it.


def state_file() -> Path:
    return cache_dir() / "run" / "es.json"


def save_state(info: ServerInfo) -> None:
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(info)))


def load_state() -> ServerInfo | None:
    """The CLI-started server if it is still running; a stale state file is removed."""
    path = state_file()
    if not path.exists():
        return None
    info = ServerInfo(**json.loads(path.read_text()))
    if not _alive(info.pid):
        path.unlink(missing_ok=True)
        shutil.rmtree(info.data_dir, ignore_errors=True)
        return None
    return info


def clear_state() -> None:
    state_file().unlink(missing_ok=True)


def server_version(url: str) -> str:
    """The version number the running server reports.

    Read from the node info: the integ-test zip has no handler for ``GET /``.
    """
    nodes = _get_json(f"{url}/_nodes/_local?filter_path=nodes.*.version")["nodes"]
    return next(iter(nodes.values()))["version"]
