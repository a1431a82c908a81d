"""The feed-watch trigger: :class:`~newswire.watch.watcher.FeedWatcher` inside Airflow's triggerer.

It lives in the installed package because the triggerer imports triggers by class path and cannot
import them from the DAG folder. One trigger watches all watched sources, so sources on one host
share that host's rate limit. Its kwargs name the sources file, the watched sources and a digest of
their settings: a change to any of them gives a new trigger (Airflow identifies event triggers by
class path and kwargs), which starts with the new settings.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from newswire.config import SourceConfig, load_config

CLASSPATH = "newswire.watch.trigger.FeedWatchTrigger"


def settings_digest(sources: list[SourceConfig]) -> str:
    """A short hash of the watched sources' settings (a change restarts the trigger)."""
    text = json.dumps([s.model_dump(mode="json") for s in sources], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class FeedWatchTrigger(BaseEventTrigger):
    """Fires one event each time some watched sources announce entries not seen before.

    The event's payload names the sources and counts the new entries; the stream run does not rely
    on it: its work is the pending mark each change leaves in the source state (``newswire.watch.pending``).
    """

    def __init__(self, *, sources_path: str, sources: list[str], digest: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.sources_path = sources_path
        self.source_names = list(sources)
        self.digest = digest

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return CLASSPATH, {"sources_path": self.sources_path, "sources": self.source_names, "digest": self.digest}

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from newswire.airflow_support import settings_from_airflow_async

        # Imports, the config file and client set-up block: off the triggerer's event loop.
        watcher_module = await asyncio.to_thread(importlib.import_module, "newswire.watch.watcher")
        config = await asyncio.to_thread(load_config, self.sources_path)
        known = {s.name for s in config.sources}
        sources = [config.get(name) for name in self.source_names if name in known]
        sources = [s for s in sources if s.enabled and s.watch is not None]
        settings = await settings_from_airflow_async()
        es = await asyncio.to_thread(settings.es_client)
        try:
            store = _IndexStore(es, settings.index_prefix)
            watcher = watcher_module.FeedWatcher(sources, record=store.record, already_indexed=store.already_indexed)
            async for change in watcher.changes():
                yield TriggerEvent(change.payload())
        finally:
            es.close()


class _IndexStore:
    """What the watcher reads from and writes to Elasticsearch (blocking calls, run in threads)."""

    def __init__(self, es, prefix: str):
        self.es = es
        self.prefix = prefix

    def record(self, change) -> None:
        from newswire.watch.pending import mark_changed

        mark_changed(self.es, change.sources, change.at, self.prefix)

    def already_indexed(self, urls: list[str]) -> set[str]:
        from newswire.ids import article_id
        from newswire.index.state import existing_ids

        ids = {article_id(u): u for u in urls}
        return {ids[i] for i in existing_ids(self.es, list(ids), self.prefix)}
