"""One source's batch through ``newswire.pipeline`` (no scheduler): bad items are reported, the rest lands.

A real HTTP server on 127.0.0.1 serves a feed mixing real article pages with broken items; the
real Elasticsearch receives the result.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import REPO
from newswire import pipeline
from newswire.config import parse_config
from newswire.settings import Settings
from newswire.workers import MIN_PAGES_FOR_WORKERS, PageProcessor
from support.crashing import POISON, process_or_die
from support.newssite import PAGES, _rss, count
from support.webserver import Route


@pytest.fixture(scope="module")
def stages():
    return pipeline.Stages.load()


def _page(n: int) -> str:
    return gzip.decompress(sorted(PAGES.glob("*.html.gz"))[n].read_bytes()).decode("utf-8", "replace")


def _source(web_server, **overrides):
    config = parse_config({
        "defaults": {"allowed_networks": ["127.0.0.1/32"], "rate_limit": 100, "retries": 1, "max_retry_wait": 1,
                     "timeouts": {"connect": 2, "read": 2, "total": 5}},
        "sources": [{"name": "mixed", "type": "feed", "url": web_server.url("/feed.xml"), **overrides}],
    }, base_dir=REPO)
    return config.get("mixed")


def _serve_feed(web_server, paths: list[str], etag: str) -> None:
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    web_server.add("/feed.xml", body=_rss([(web_server.url(p), p, now) for p in paths]),
                   content_type="application/rss+xml", etag=etag)


def test_bad_items_are_reported_and_the_batch_goes_on(web_server, es, es_url, index_prefix, stages):
    web_server.add("/good-1.html", body=_page(0))
    web_server.add("/good-2.html", body=_page(1))
    web_server.add("/gone.html", status=404, body="not here")
    web_server.add("/photo.jpg", body=b"\xff\xd8\xff\xe0" + b"0" * 2000, content_type="image/jpeg")
    web_server.add("/menu.html", body="<html><head><title>Sections</title></head><body><ul>"
                   + "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(40)) + "</ul></body></html>")
    web_server.redirect("/loop-a.html", "/loop-b.html")
    web_server.redirect("/loop-b.html", "/loop-a.html")
    web_server.add("/slow.html", Route(body=_page(2), delay=4))
    paths = ["/good-1.html", "/good-2.html", "/gone.html", "/photo.jpg", "/menu.html", "/loop-a.html", "/slow.html"]
    _serve_feed(web_server, paths, '"v1"')
    settings = Settings(es_url=es_url, index_prefix=index_prefix)
    pipeline.prepare_indices(settings)

    report = pipeline.ingest_source(_source(web_server), settings, stages=stages)

    assert report.status == "partial"
    assert report.seen == 7 and report.new == 7
    assert report.indexed == 2
    failed = {o.url.rsplit("/", 1)[1]: o.reason for o in report.failed}
    assert failed == {"gone.html": "http-404", "photo.jpg": "bad-content-type",
                      "loop-a.html": "redirect-loop", "slow.html": "timeout"}
    skipped = {o.url.rsplit("/", 1)[1]: o.reason for o in report.skipped}
    assert set(skipped) == {"menu.html"}
    assert count(es, f"{index_prefix}-articles") == 2
    assert report.claims == count(es, f"{index_prefix}-claims") > 0
    assert set(report.durations) >= {"discover", "fetch", "extract", "claims", "dedup", "index", "state"}

    # Refused writes aside, state was saved: the unchanged feed answers 304 and nothing is fetched.
    web_server.clear_log()
    again = pipeline.ingest_source(_source(web_server), settings, stages=stages)
    assert again.status == "not-modified" and again.indexed == 0
    assert [r.route for r in web_server.requests if r.route != "/robots.txt"] == ["/feed.xml"]

    # A changed feed: only the new item is fetched; the old ones are known by their canonical URL.
    web_server.add("/good-3.html", body=_page(3))
    _serve_feed(web_server, ["/good-1.html?utm_source=rss", "/good-3.html", *paths[1:]], '"v2"')
    web_server.clear_log()
    third = pipeline.ingest_source(_source(web_server), settings, stages=stages)
    fetched = {r.route for r in web_server.requests} - {"/feed.xml", "/robots.txt"}
    assert "/good-3.html" in fetched and not fetched & {"/good-1.html", "/good-2.html"}
    assert third.indexed == 1
    assert count(es, f"{index_prefix}-articles") == 3


def test_a_page_that_kills_its_worker_is_one_failed_item(web_server, es, es_url, index_prefix):
    """Worker processes: a page whose processing kills the process fails alone; the rest is indexed once."""
    files = sorted(PAGES.glob("*.html.gz"))
    paths = [f"/story-{i}.html" for i in range(len(files))] + [f"/story{POISON}.html"]
    for path, file in zip(paths, [*files, files[0]]):
        web_server.add(path, body=gzip.decompress(file.read_bytes()))
    _serve_feed(web_server, paths, '"v1"')
    settings = Settings(es_url=es_url, index_prefix=index_prefix)
    pipeline.prepare_indices(settings)
    assert len(paths) >= MIN_PAGES_FOR_WORKERS

    with pipeline.Stages(processor=PageProcessor(None, workers=2, task=process_or_die)) as stages:
        report = pipeline.ingest_source(_source(web_server), settings, stages=stages)

    assert report.status == "partial"
    assert [(o.url, o.reason) for o in report.failed] == [(web_server.url(paths[-1]), "worker-crashed")]
    assert report.indexed == count(es, f"{index_prefix}-articles") == len(files) - len(report.skipped)
    assert report.indexed >= len(files) - 2


def test_newswire_run_cli_ingests_a_folder_once(tmp_path, es, es_url, index_prefix):
    folder = tmp_path / "drop"
    folder.mkdir()
    for seed in sorted((REPO / "seeds").glob("*.txt"))[:2]:
        (folder / seed.name).write_text(seed.read_text())
    config = tmp_path / "sources.yaml"
    config.write_text(f"sources:\n  - name: drop\n    type: directory\n    path: {folder}\n")
    env = {"ELASTICSEARCH_URL": es_url, "NEWSWIRE_INDEX_PREFIX": index_prefix, "PATH": "/usr/bin:/bin"}
    newswire = str(Path(sys.executable).parent / "newswire")
    for expected_indexed in (2, 0):
        out = subprocess.run([newswire, "run", "--config", str(config), "--json"], capture_output=True,
                             text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        run = json.loads(out.stdout)
        assert [s["source"] for s in run["sources"]] == ["drop"]
        assert run["sources"][0]["indexed"] == expected_indexed
    assert count(es, f"{index_prefix}-articles") == 2
