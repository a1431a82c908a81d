"""Where newswire finds Elasticsearch and its config: read once at the edge, passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The repository root when running from a checkout (config/, seeds/ and docker-compose.yml live there).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SOURCES = PROJECT_ROOT / "config" / "sources.yaml"
DEFAULT_ES_URL = "http://127.0.0.1:9200"
DEFAULT_INDEX_PREFIX = "newswire"


def _whole_number(env, name: str) -> int | None:
    """A whole number >= 0 from the environment; None when unset or blank."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, not {value}")
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    """Connection settings for Elasticsearch and the paths the pipeline uses."""

    es_url: str = DEFAULT_ES_URL
    es_username: str | None = None
    es_password: str | None = None
    es_api_key: str | None = None
    es_ca_certs: str | None = None
    index_prefix: str = DEFAULT_INDEX_PREFIX
    sources_path: Path = DEFAULT_SOURCES
    workers: int = 0  # processes for extraction and claims in one task; 0: one per available core
    retention_days: int | None = None  # maintenance deletes articles older than this; None: keeps all

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        """Settings from ``ELASTICSEARCH_URL`` and friends (outside Airflow)."""
        env = os.environ if environ is None else environ
        return cls(
            es_url=env.get("ELASTICSEARCH_URL", DEFAULT_ES_URL),
            es_username=env.get("ELASTICSEARCH_USERNAME") or None,
            es_password=env.get("ELASTICSEARCH_PASSWORD") or None,
            es_api_key=env.get("ELASTICSEARCH_API_KEY") or None,
            es_ca_certs=env.get("ELASTICSEARCH_CA_CERTS") or None,
            index_prefix=env.get("NEWSWIRE_INDEX_PREFIX", DEFAULT_INDEX_PREFIX),
            sources_path=Path(env.get("NEWSWIRE_SOURCES", str(DEFAULT_SOURCES))),
            workers=_whole_number(env, "NEWSWIRE_WORKERS") or 0,
            retention_days=_whole_number(env, "NEWSWIRE_RETENTION_DAYS"),
        )

    @property
    def es_hosts(self) -> list[str]:
        """``es_url`` as one URL per node.

        Accepts one URL, a comma-separated list of URLs, or several hosts sharing the scheme
        and port as multi-host Postgres and MongoDB URLs write them: ``https://es01,es02,es03:9200``.
        """
        parts = [part.strip() for part in self.es_url.split(",") if part.strip()]
        if len(parts) < 2 or all("://" in part for part in parts[1:]):
            return parts
        scheme, first = parts[0].split("://", 1)
        hosts = [first, *parts[1:]]
        last_host, colon, port = hosts[-1].rpartition(":")
        if colon and port.isdigit():
            hosts[-1] = last_host
        suffix = f":{port}" if colon and port.isdigit() else ""
        return [f"{scheme}://{host}{suffix}" for host in hosts]

    @property
    def worker_count(self) -> int:
        """``workers``, with 0 resolved to the cores this process may use."""
        from newswire.workers import default_workers

        return self.workers if self.workers > 0 else default_workers()

    def es_client(self):
        """A new Elasticsearch client for these settings; the caller closes it."""
        from elasticsearch import Elasticsearch

        kwargs: dict = {"request_timeout": 30}
        if self.es_api_key:
            kwargs["api_key"] = self.es_api_key
        elif self.es_username:
            kwargs["basic_auth"] = (self.es_username, self.es_password or "")
        if self.es_ca_certs:
            kwargs["ca_certs"] = self.es_ca_certs
        return Elasticsearch(self.es_hosts, **kwargs)
