"""The Airflow services' settings, read from ``docker-compose.yml`` and moved onto 127.0.0.1.

The stack harness runs the compose topology as local processes. So that the tests prove the
compose configuration rather than a copy of it, every Airflow process gets the environment
its compose service declares, interpolated the way ``docker compose config`` does with a
generated ``.env`` (``support.compose``, which tests/test_compose.py checks); then the service host names (``postgres``, ``redis``, ``es01``, ...) are
replaced by the local servers' 127.0.0.1 ports and container paths by local directories.
Anything that still names a compose service afterwards is an error: a setting the harness
would silently get wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# scheme://[userinfo@]host[,host...][:port] in a setting's value
_URL = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<auth>[^@/\s,]*@)?(?P<hosts>[\w.-]+(?:,[\w.-]+)*)(?::(?P<port>\d+))?")
DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "redis": 6379, "http": 80, "https": 443}
CONNECTION_PREFIX = "AIRFLOW_CONN_"


def _default_port(scheme: str) -> int:
    """The port a URL scheme implies: ``db+postgresql`` and ``postgresql+psycopg2`` both mean 5432."""
    return next((DEFAULT_PORTS[part] for part in scheme.split("+") if part in DEFAULT_PORTS), 0)


class ComposeError(ValueError):
    """The compose file cannot be turned into a local configuration (a missing variable, an unmapped host)."""


def load(variables: Mapping[str, str], compose_file: Path) -> dict:
    """The compose file interpolated with ``variables`` as `docker compose config` does (support.compose)."""
    from support import compose as resolver

    try:
        return resolver.load(variables, compose_file)
    except resolver.InterpolationError as err:
        raise ComposeError(str(err)) from None


def service_environment(compose: dict, service: str) -> dict[str, str]:
    """The environment a service of the interpolated file declares (list or mapping form)."""
    declared = compose["services"][service].get("environment") or {}
    if isinstance(declared, list):
        declared = dict(item.split("=", 1) for item in declared if "=" in item)
    return {name: str(value) for name, value in declared.items() if value is not None}


def service_command(compose: dict, service: str) -> list[str]:
    """The service's entrypoint and command as one argument list (the image entrypoint omitted)."""
    spec = compose["services"][service]
    parts: list[str] = []
    for key in ("entrypoint", "command"):
        value = spec.get(key)
        if value is None:
            continue
        parts.extend(value.split() if isinstance(value, str) else [str(v) for v in value])
    return parts


def volume_map(compose: dict, service: str) -> dict[str, str]:
    """``{container path: source}`` for a service's volumes (a bind's ``./x`` or a named volume)."""
    mounts: dict[str, str] = {}
    for volume in compose["services"][service].get("volumes") or []:
        source, target, *_ = str(volume).split(":")
        mounts[target] = source
    return mounts


@dataclass(frozen=True, kw_only=True)
class Localizer:
    """How compose names map to this machine.

    Attributes:
        services: compose service name -> {container port: 127.0.0.1 port}.
        paths: container path -> local path (longest prefix wins).
    """

    services: Mapping[str, Mapping[int, int]]
    paths: Mapping[str, Path]

    @property
    def container_roots(self) -> set[str]:
        """The parent folders of the mounts (``/opt/airflow``): a value under one must have been mapped."""
        return {str(Path(container).parent) for container in self.paths}

    def address(self, host: str, port: int) -> str:
        try:
            return f"127.0.0.1:{self.services[host][port]}"
        except KeyError:
            raise ComposeError(f"no local server for compose service {host}:{port}") from None

    def url(self, match: re.Match) -> str:
        hosts = match.group("hosts").split(",")
        known = [h in self.services for h in hosts]
        if not any(known):
            return match.group(0)
        if not all(known):
            raise ComposeError(f"{match.group(0)}: mixes compose services and other hosts")
        scheme = match.group("scheme")
        port = int(match.group("port") or _default_port(scheme.split("://")[0]))
        auth = match.group("auth") or ""
        # Several hosts sharing one port (`https://es01,es02,es03:9200`) become one URL per node:
        # the local nodes share 127.0.0.1 and differ by port.
        return ",".join(f"{scheme}{auth}{self.address(host, port)}" for host in hosts)

    def value(self, value: str) -> str:
        for container, local in sorted(self.paths.items(), key=lambda item: -len(item[0])):
            if value == container or value.startswith(container + "/"):
                value = str(local) + value[len(container):]
                break
        return _URL.sub(self.url, value)

    def connection(self, value: str) -> str:
        """An ``AIRFLOW_CONN_*`` JSON value with its host list moved to 127.0.0.1.

        Several hosts sharing the connection's port become ``127.0.0.1:<port>`` entries, each
        with its own port, and the shared port is dropped.
        """
        try:
            conn = json.loads(value)
        except json.JSONDecodeError as err:
            raise ComposeError(f"connection JSON does not parse ({err}): {value}") from None
        hosts = [h.strip() for h in str(conn.get("host") or "").split(",") if h.strip()]
        if hosts and all(h in self.services for h in hosts):
            port = int(conn.get("port") or _default_port(str(conn.get("schema") or "http")))
            addresses = [self.address(h, port) for h in hosts]
            if len(addresses) == 1:
                conn["host"], conn["port"] = "127.0.0.1", int(addresses[0].rsplit(":", 1)[1])
            else:
                conn["host"] = ",".join(addresses)
                conn.pop("port", None)
        elif any(h in self.services for h in hosts):
            raise ComposeError(f"connection mixes compose services and other hosts: {conn.get('host')}")
        return json.dumps(conn)

    def environment(self, environment: Mapping[str, str], compose_services: list[str]) -> dict[str, str]:
        """Every value localised; a value still naming one of ``compose_services`` as a host is an error."""
        out = {}
        for name, value in environment.items():
            local = self.connection(value) if name.startswith(CONNECTION_PREFIX) else self.value(value)
            for service in compose_services:
                if re.search(rf"(?:://|@|^){re.escape(service)}(?::\d+)?(?:[/,]|$)", local):
                    raise ComposeError(f"{name} still names compose service {service!r}: {local}")
            if self.paths and any(local.startswith(container) for container in self.container_roots):
                raise ComposeError(f"{name} names a container path no volume maps here: {local}")
            out[name] = local
        return out
