"""Stream mode against a real Elasticsearch: pending marks, the stream ingestion, and the trigger itself."""

from __future__ import annotations

import asyncio
import gzip
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from newswire import pipeline
from newswire.config import load_config
from newswire.index.state import load_state, save_state
from newswire.models import SourceState
from newswire.settings import Settings
from newswire.watch.pending import mark_changed, mark_ingested, pending_sources, read_marks
from newswire.watch.stream import ingest_pending, pending_names
from support.newssite import PAGES, _rss

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def settings(es_url, index_prefix):
    settings = Settings(es_url=es_url, index_prefix=index_prefix)
    pipeline.prepare_indices(settings)
    return settings


def _sources_file(tmp_path, web_server, names=("wire",)):
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({
        "defaults": {"allowed_networks": ["127.0.0.1/32"], "rate_limit": 50,
                     "watch": {"min_interval": "1s", "max_interval": "5s"}},
        "sources": [{"name": n, "type": "feed", "url": web_server.url(f"/{n}.xml")} for n in names],
    }))
    return path


def _serve(web_server, name: str, pages: list[int], etag: str) -> None:
    items = []
    for n in pages:
        path = f"/{name}/{n}.html"
        web_server.add(path, body=gzip.decompress(sorted(PAGES.glob("*.html.gz"))[n].read_bytes()))
        items.append((web_server.url(path), f"story {n}", T0))
    web_server.add(f"/{name}.xml", body=_rss(items), content_type="application/rss+xml", etag=etag)


def test_marks_are_pending_until_ingested_and_survive_state_saves(es, settings):
    prefix = settings.index_prefix
    assert pending_sources(es, ["a", "b"], prefix) == []
    mark_changed(es, ["a", "b"], T0, prefix)
    save_state(es, SourceState(source="a", etag='"x"', consecutive_failures=2), prefix)  # the pipeline's own write
    assert pending_sources(es, ["a", "b", "c"], prefix) == ["a", "b"]
    assert load_state(es, "a", prefix).etag == '"x"'

    (mark_a,) = read_marks(es, ["a"], prefix)
    mark_changed(es, ["a"], T0 + timedelta(seconds=20), prefix)  # the watcher again, while "a" is ingested
    mark_ingested(es, mark_a, prefix)
    assert pending_sources(es, ["a", "b"], prefix) == ["a", "b"]  # the later change is still to do
    (mark_a,) = read_marks(es, ["a"], prefix)
    mark_ingested(es, mark_a, prefix)
    assert pending_sources(es, ["a", "b"], prefix) == ["b"]
    save_state(es, SourceState(source="a", last_error=None), prefix)
    assert read_marks(es, ["a"], prefix)[0].changed_at == T0 + timedelta(seconds=20)


def test_stream_run_ingests_what_is_pending_once(es, settings, web_server, tmp_path):
    config = load_config(_sources_file(tmp_path, web_server, ("wire", "quiet")))
    _serve(web_server, "wire", [0, 1], '"v1"')
    _serve(web_server, "quiet", [2], '"q1"')
    prefix = settings.index_prefix
    # Two events folded into one run: the run still sees every source with a mark.
    mark_changed(es, ["wire"], T0, prefix)
    mark_changed(es, ["wire"], T0 + timedelta(seconds=5), prefix)
    assert pending_names(config, settings) == ["wire"]

    with pipeline.Stages.load() as stages:
        report = ingest_pending(config.get("wire"), settings, stages=stages)
        assert report.indexed == 2
        assert pending_names(config, settings) == []
        _serve(web_server, "wire", [3, 0, 1], '"v2"')
        mark_changed(es, ["wire"], T0 + timedelta(seconds=60), prefix)
        again = ingest_pending(config.get("wire"), settings, stages=stages)
    assert again.indexed == 1 and again.new == 1  # only the new one; the others are already indexed
    assert pending_names(config, settings) == []


def test_a_failed_source_keeps_its_mark(es, settings, web_server, tmp_path):
    config = load_config(_sources_file(tmp_path, web_server, ("down",)))
    web_server.add("/down.xml", status=500)
    mark_changed(es, ["down"], T0, settings.index_prefix)
    report = ingest_pending(config.get("down"), settings, stages=pipeline.Stages())
    assert report.status == "failed"
    assert pending_names(config, settings) == ["down"]


def test_the_trigger_marks_the_source_then_fires_one_event(es, settings, web_server, tmp_path, monkeypatch):
    from airflow.triggers.base import BaseEventTrigger

    from newswire.watch.trigger import FeedWatchTrigger, settings_digest

    monkeypatch.setenv("NEWSWIRE_INDEX_PREFIX", settings.index_prefix)
    path = _sources_file(tmp_path, web_server)
    config = load_config(path)
    _serve(web_server, "wire", [0, 1], '"v1"')
    trigger = FeedWatchTrigger(sources_path=str(path), sources=["wire"], digest=settings_digest(list(config.sources)))
    assert isinstance(trigger, BaseEventTrigger)
    classpath, kwargs = trigger.serialize()
    assert classpath == "newswire.watch.trigger.FeedWatchTrigger"
    assert FeedWatchTrigger(**kwargs).serialize() == (classpath, kwargs)

    async def first_events():
        events = []
        stream = trigger.run()
        events.append(await asyncio.wait_for(anext(stream), timeout=60))
        _serve(web_server, "wire", [2, 0, 1], '"v2"')
        events.append(await asyncio.wait_for(anext(stream), timeout=60))
        await stream.aclose()
        return events

    first, second = asyncio.run(first_events())
    assert first.payload["sources"] == ["wire"] and first.payload["new_entries"] == 2
    assert second.payload["new_entries"] == 1  # polls in between (304s) fired nothing
    assert pending_names(config, settings) == ["wire"]
    assert web_server.hits("/wire.xml") >= 2


def test_set_up_gives_an_existing_state_index_the_mark_fields(es, index_prefix):
    from newswire.index.admin import ensure_indices

    index = f"{index_prefix}-sources-v1"  # as an earlier release created it: no mark fields
    es.indices.create(index=index, aliases={f"{index_prefix}-sources": {"is_write_index": True}},
                      mappings={"dynamic": "strict", "properties": {"source": {"type": "keyword"}}})
    summary = ensure_indices(es, index_prefix)
    assert summary["indices"]["sources"] == {"alias": f"{index_prefix}-sources", "index": index, "status": "exists"}
    properties = es.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert properties["changed_at"]["type"] == properties["change_ingested_at"]["type"] == "date"
    mark_changed(es, ["a"], T0, index_prefix)
    assert pending_sources(es, ["a"], index_prefix) == ["a"]
