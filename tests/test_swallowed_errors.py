"""Errors that used to be swallowed (issue 13, item 15) are logged and counted in the report.

Against the real Elasticsearch: a write block on an index makes its writes fail the way a
full disk or a closed index does (403 ``cluster_block_exception`` per item), while reads go
on. The bozo feed is served by the real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from conftest import REPO
from newswire import pipeline
from newswire.config import parse_config
from newswire.ids import article_id, claim_id
from newswire.index import admin, bulk, names
from newswire.index.bulk import article_document
from newswire.models import Article, Claim
from newswire.settings import Settings
from support.newssite import PAGES, _rss

NOW = datetime(2026, 11, 20, tzinfo=timezone.utc)


def _block_writes(es, prefix: str, kind: str) -> None:
    es.indices.put_settings(index=names.alias(prefix, kind), settings={"index.blocks.write": True})


def _article(n: int, claims: list[Claim] | None = None) -> Article:
    url = f"https://news.example/{n}"
    return Article(id=article_id(url), url=url, canonical_url=url, source="wire", title=f"Story {n}",
                   text=f"Body of story {n}. " * 20, published=NOW, language="en", claims=claims or [])


def _page(n: int) -> str:
    import gzip

    return gzip.decompress(sorted(PAGES.glob("*.html.gz"))[n].read_bytes()).decode("utf-8", "replace")


def _source(web_server):
    config = parse_config({
        "defaults": {"allowed_networks": ["127.0.0.1/32"], "rate_limit": 100, "retries": 1, "max_retry_wait": 1,
                     "timeouts": {"connect": 2, "read": 2, "total": 5}},
        "sources": [{"name": "wire", "type": "feed", "url": web_server.url("/feed.xml")}],
    }, base_dir=REPO)
    return config.get("wire")


def _serve(web_server, feed: str, pages: int = 2) -> None:
    paths = [f"/story-{n}.html" for n in range(pages)]
    for n, path in enumerate(paths):
        web_server.add(path, body=_page(n))
    web_server.add("/feed.xml", body=feed.replace("{base}", web_server.url("")).encode(),
                   content_type="application/rss+xml")


def _feed(bozo: bool = False) -> str:
    feed = _rss([("{base}" + f"/story-{n}.html", f"Story {n}", NOW) for n in range(2)])
    # A bare ampersand: expat refuses the document, feedparser's loose parser recovers the entries.
    return feed.replace("<description>test feed</description>", "<description>news & views</description>") \
        if bozo else feed


def _run_document(es, settings: Settings, report) -> dict:
    pipeline.write_report(settings, "run-1", NOW, [report])
    return es.get(index=names.alias(settings.index_prefix, "runs"), id="run-1:wire")["_source"]


def test_a_dead_letter_write_that_fails_is_logged_and_counted(es, index_prefix, caplog):
    admin.ensure_indices(es, index_prefix)
    _block_writes(es, index_prefix, "deadletter")
    bad = {**article_document(_article(1)), "colour": "red"}  # not in the strict mapping
    with caplog.at_level(logging.ERROR, logger="newswire.index.bulk"):
        result = bulk.index_articles(es, [bad], index_prefix)
    assert [f.error_type for f in result.failed] == ["strict_dynamic_mapping_exception"]
    assert (result.dead_lettered, result.deadletter_failed) == (0, 1)
    assert "dead-letter write failed" in caplog.text and "cluster_block_exception" in caplog.text


def test_stale_claim_deletes_that_fail_are_logged_and_counted(es, index_prefix, caplog):
    admin.ensure_indices(es, index_prefix)
    claims = [Claim(text=f"Unemployment fell to {n} percent.", score=0.9, checkworthy=True, sentence_index=n)
              for n in (1, 4, 7)]
    art = _article(2, claims)
    assert bulk.index_claims(es, [(art, article_document(art))], index_prefix).indexed == 3
    _block_writes(es, index_prefix, "claims")

    art.claims = claims[:1]  # re-extracted: two claims are now stale, but the index refuses the deletes
    with caplog.at_level(logging.ERROR, logger="newswire.index.bulk"):
        result = bulk.index_claims(es, [(art, article_document(art))], index_prefix)
        direct = bulk.delete_stale_claims(es, [art.id], {claim_id(art.id, 1)}, index_prefix)
    assert result.stale_claims_failed == 2 and direct == (0, 2)
    assert "stale claim delete failed" in caplog.text
    left = es.count(index=names.alias(index_prefix, "claims"), query={"term": {"article_id": art.id}})["count"]
    assert left == 3  # what the counts say: the stale claims are still there


@pytest.mark.parametrize(("blocked", "parked", "lost"), [
    (("articles",), 2, 0),  # refused, parked: the report says how many
    (("articles", "deadletter"), 0, 2),  # refused, and the dead-letter write failed too
])
def test_dead_letter_counts_reach_the_source_report_and_the_run_document(
        web_server, es, es_url, index_prefix, blocked, parked, lost):
    _serve(web_server, _feed())
    settings = Settings(es_url=es_url, index_prefix=index_prefix)
    pipeline.prepare_indices(settings)
    for kind in blocked:
        _block_writes(es, index_prefix, kind)
    with pipeline.Stages() as stages:  # no claim model: extraction only
        report = pipeline.ingest_source(_source(web_server), settings, stages=stages, now=NOW)
    assert report.indexed == 0 and len(report.failed) == 2
    assert (report.dead_lettered, report.deadletter_failed) == (parked, lost)
    doc = _run_document(es, settings, report)
    assert (doc["dead_lettered"], doc["deadletter_failed"]) == (parked, lost)
    summary = es.get(index=names.alias(index_prefix, "runs"), id="run-1:_run")["_source"]
    assert summary["deadletter_failed"] == lost


def test_a_bozo_feed_warning_reaches_the_source_report_and_the_run_document(web_server, es, es_url, index_prefix):
    _serve(web_server, _feed(bozo=True))
    settings = Settings(es_url=es_url, index_prefix=index_prefix)
    pipeline.prepare_indices(settings)
    with pipeline.Stages() as stages:
        report = pipeline.ingest_source(_source(web_server), settings, stages=stages, now=NOW)
    assert report.indexed == 2  # the recovered entries are used
    assert report.warning and "not well-formed" in report.warning
    doc = _run_document(es, settings, report)
    assert doc["warning"] == report.warning
    found = es.search(index=names.alias(index_prefix, "runs"), query={"match": {"warning": "well-formed"}})
    assert found["hits"]["total"]["value"] == 1  # searchable as text for the dashboard


def test_a_well_formed_feed_has_no_warning(web_server, es, es_url, index_prefix):
    _serve(web_server, _feed())
    settings = Settings(es_url=es_url, index_prefix=index_prefix)
    pipeline.prepare_indices(settings)
    with pipeline.Stages() as stages:
        report = pipeline.ingest_source(_source(web_server), settings, stages=stages, now=NOW)
    assert report.indexed == 2 and report.warning is None
    assert "warning" not in _run_document(es, settings, report)
