"""The little the DAG files need from Airflow-land: settings from the connection, schedule groups.

Imported only by the DAG files and their tasks; the CLI never imports Airflow.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from newswire.config import SourceConfig, SourcesConfig, load_config
from newswire.settings import Settings

ES_CONNECTION_ID = "newswire_es"
MANUAL = "manual"

log = logging.getLogger(__name__)


def sources_path() -> Path:
    """The sources file: ``$NEWSWIRE_SOURCES`` or the bundled ``config/sources.yaml``."""
    return Settings.from_env().sources_path


def load_sources() -> SourcesConfig:
    return load_config(sources_path())


def settings_from_airflow() -> Settings:
    """Settings whose Elasticsearch comes from the ``newswire_es`` connection, else the environment.

    The connection gives the address and the login; its ``extra`` may add ``api_key`` and
    ``ca_certs``. What it leaves out keeps the environment's value (``ELASTICSEARCH_API_KEY``,
    ``ELASTICSEARCH_CA_CERTS``), so a connection without extras still trusts a private CA.
    ``host`` may list several nodes, comma-separated. Called inside tasks only (never at parse
    time), so parsing needs no connection.
    """
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowRuntimeError

    try:
        conn = Connection.get(ES_CONNECTION_ID)
    except (AirflowRuntimeError, LookupError) as exc:
        return _without_connection(exc)
    return settings_from_connection(Settings.from_env(), conn)


async def settings_from_airflow_async() -> Settings:
    """:func:`settings_from_airflow` for async code (the triggerer), where the blocking lookup is not allowed."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowRuntimeError

    try:
        conn = await Connection.async_get(ES_CONNECTION_ID)
    except (AirflowRuntimeError, LookupError) as exc:
        return _without_connection(exc)
    return settings_from_connection(Settings.from_env(), conn)


def _without_connection(exc: Exception) -> Settings:
    base = Settings.from_env()
    # Said out loud: a misspelt or missing connection otherwise looks like a healthy run
    # against whatever ELASTICSEARCH_URL (or 127.0.0.1) happens to answer.
    log.warning("Airflow connection %r not found (%s); using Elasticsearch at %s from the environment",
                ES_CONNECTION_ID, exc, base.es_url)
    return base


def settings_from_connection(base: Settings, conn) -> Settings:
    """``base`` with the Elasticsearch address, login and extras of an Airflow connection merged in."""
    scheme = conn.schema or "http"
    port = conn.port or 9200
    url = ",".join(f"{scheme}://{host.strip()}:{port}" for host in (conn.host or "").split(",") if host.strip())
    extra = conn.extra_dejson or {}
    return replace(
        base,
        es_url=url or base.es_url,
        es_username=conn.login or base.es_username,
        es_password=conn.password or base.es_password,
        es_api_key=extra.get("api_key") or base.es_api_key,
        es_ca_certs=extra.get("ca_certs") or base.es_ca_certs,
    )


def schedule_slug(schedule: str | None) -> str:
    """A DAG-id-safe name for a schedule: ``@hourly`` -> ``hourly``, a cron -> ``cron_<hash>``."""
    if schedule is None:
        return MANUAL
    if schedule.startswith("@"):
        return re.sub(r"[^a-z0-9]+", "_", schedule[1:].lower())
    return "cron_" + hashlib.sha1(schedule.encode()).hexdigest()[:8]


def schedule_groups(config: SourcesConfig) -> dict[str | None, list[SourceConfig]]:
    """Enabled sources grouped by their schedule, in file order; watched sources are streamed instead."""
    groups: dict[str | None, list[SourceConfig]] = {}
    for source in config.enabled:
        if source.watch is None:
            groups.setdefault(source.schedule, []).append(source)
    return groups


def watched_sources(config: SourcesConfig) -> list[SourceConfig]:
    """Enabled sources in stream mode (``watch:`` set), in file order."""
    return [s for s in config.enabled if s.watch is not None]


def task_timeout(sources: list[SourceConfig]) -> timedelta:
    """The execution_timeout for a DAG's tasks: the longest ``task_timeout`` of its sources."""
    return max((s.task_timeout for s in sources), default=SourceConfig.model_fields["task_timeout"].default)
