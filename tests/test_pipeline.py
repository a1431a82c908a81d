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


def _with_canonical(html: str, href: str) -> str:
    """The page declaring ``href`` as its canonical URL (first in <head>, before any it carries)."""
    head = html.lower().index("<head")
    close = html.index(">", head) + 1
    return html[:close] + f'<link rel="canonical" href="{href}">' + html[close:]


def _serve_feed_at(web_server, path: str, links: list[str], etag: str) -> None:
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    web_server.add(path, body=_rss([(web_server.url(link), link, now) for link in links]),
                   content_type="application/rss+xml", etag=etag)


def test_second_run_fetches_nothing_for_redirected_canonical_and_rejected_links(web_server, es, es_url,
                                                                                  index_prefix, stages):
    """The seen-check meets the stored id whichever URL the feed lists: a redirecting link, a page
    naming another canonical URL, and a page that is not an article are each fetched once."""
    web_server.add("/story/one.html", body=_with_canonical(_page(4), web_server.url("/story/one")))
    web_server.add("/story/two.html", body=_page(5))
    web_server.redirect("/go/two", web_server.url("/story/two.html"), status=301)
    web_server.add("/menu.html", body="<html><head><title>Sections</title></head><body><ul>"
                   + "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(40)) + "</ul></body></html>")
    links = ["/story/one.html?ref=rss", "/go/two?ref=rss", "/menu.html?ref=rss"]
    _serve_feed_at(web_server, "/feed.xml", links, '"v1"')
    settings = Settings(es_url=es_url, index_prefix=index_prefix)
    pipeline.prepare_indices(settings)

    first = pipeline.ingest_source(_source(web_server), settings, stages=stages)
    assert first.indexed == 2 and [o.reason for o in first.skipped] == ["not-article"]
    stored = {d["_source"]["canonical_url"]: d["_source"] for d in
              es.search(index=f"{index_prefix}-articles", query={"match_all": {}})["hits"]["hits"]}
    assert set(stored) == {web_server.url("/story/one"), web_server.url("/story/two.html")}
    assert web_server.url("/go/two") in stored[web_server.url("/story/two.html")]["entry_urls"]  # canonical spelling

    # The feed changed (one new item), listing the same links again: only the new one is fetched.
    web_server.add("/story/three.html", body=_page(6))
    _serve_feed_at(web_server, "/feed.xml", [*links, "/story/three.html"], '"v2"')
    web_server.clear_log()
    second = pipeline.ingest_source(_source(web_server), settings, stages=stages)
    assert {r.route for r in web_server.requests} <= {"/feed.xml", "/robots.txt", "/story/three.html"}
    assert (second.fetched, second.indexed) == (1, 1)
    assert sorted(o.reason for o in second.skipped) == ["already-indexed", "already-indexed", "already-rejected"]

    # Another source listing the rejected page under its plain URL does not fetch it either.
    _serve_feed_at(web_server, "/other.xml", ["/menu.html"], '"o1"')
    other = _source(web_server).model_copy(update={"name": "other", "url": web_server.url("/other.xml")})
    web_server.clear_log()
    assert pipeline.ingest_source(other, settings, stages=stages).fetched == 0
    assert "/menu.html" not in {r.route for r in web_server.requests}


def test_run_once_reports_what_the_index_holds(web_server, es, es_url, index_prefix, stages):
    """Two feeds, run concurrently, share a page and carry copies: the run's counts are the index's."""
    for n in range(4):
        web_server.add(f"/a/{n}.html", body=_page(6 + n))
    for n in range(2):
        web_server.add(f"/b/copy-{n}.html", body=_page(6 + n))
    _serve_feed_at(web_server, "/a.xml", [f"/a/{n}.html" for n in range(4)], '"a"')
    _serve_feed_at(web_server, "/b.xml", ["/a/3.html", "/b/copy-0.html", "/b/copy-1.html"], '"b"')
    config = parse_config({
        "defaults": {"allowed_networks": ["127.0.0.1/32"], "rate_limit": 100, "retries": 0},
        "sources": [{"name": "a", "type": "feed", "url": web_server.url("/a.xml")},
                    {"name": "b", "type": "feed", "url": web_server.url("/b.xml")}],
    }, base_dir=REPO)
    settings = Settings(es_url=es_url, index_prefix=index_prefix)

    run = pipeline.run_once(config, settings, stages=stages)

    articles = f"{index_prefix}-articles"
    assert sum(r.indexed for r in run.sources) == count(es, articles) == 6
    assert sum(r.duplicates for r in run.sources) == count(es, articles, {"term": {"is_canonical": False}}) == 2
    summary = es.get(index=f"{index_prefix}-runs", id=f"{run.run_id}:_run")["_source"]
    assert (summary["indexed"], summary["duplicates"]) == (6, 2)
    for hit in es.search(index=articles, query={"match_all": {}}, size=10)["hits"]["hits"]:
        doc = hit["_source"]
        assert doc["indexed_at"] >= doc["fetched_at"]  # the write time, not the batch's start


def test_summary_shows_every_failure_reason_with_its_count():
    from newswire.models import ItemOutcome, RunReport, SourceReport

    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    report = SourceReport(source="wire", status="partial", failed=[
        ItemOutcome(url="file:///etc/passwd", reason="bad-scheme"), ItemOutcome(url="u1", reason="timeout"),
        ItemOutcome(url="u2", reason="timeout"), ItemOutcome(url="u3", reason="http-410")])
    line = pipeline.summary_lines(RunReport(run_id="r", started_at=now, finished_at=now, sources=[report]))[1]
    assert line.endswith("bad-scheme 1, http-410 1, timeout 2")


def test_newswire_run_exits_1_when_every_source_failed(tmp_path, es, es_url, index_prefix):
    config = tmp_path / "sources.yaml"
    config.write_text("defaults:\n  allowed_networks: [127.0.0.1/32]\n  retries: 0\n  timeouts: {connect: 1, total: 2}\n"
                      "sources:\n"
                      "  - {name: gone-a, type: feed, url: 'http://127.0.0.1:9/a.xml'}\n"
                      "  - {name: gone-b, type: feed, url: 'http://127.0.0.1:9/b.xml'}\n")
    env = {"ELASTICSEARCH_URL": es_url, "NEWSWIRE_INDEX_PREFIX": index_prefix, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(Path(sys.executable).parent / "newswire"), "run", "--config", str(config)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr[-2000:]
    assert out.stdout.count(" failed ") >= 2


def test_sources_validate_names_a_missing_directory(tmp_path):
    config = tmp_path / "sources.yaml"
    config.write_text("sources:\n  - {name: drop, type: directory, path: no-such-folder}\n")
    out = subprocess.run([str(Path(sys.executable).parent / "newswire"), "sources", "validate", str(config)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert f"sources[0] (drop): path: no such directory: {tmp_path / 'no-such-folder'}" in out.stderr


class _CountingClaims:
    """The real claim extractor, counting the article texts it is asked to score."""

    def __init__(self, extractor):
        self.extractor = extractor
        self.scored: list[str] = []

    def extract_many(self, texts):
        self.scored.extend(text for text, _ in texts)
        return self.extractor.extract_many(texts)


def test_copies_are_not_scored_for_claims(web_server, es, es_url, index_prefix, stages):
    """A copy's claims are its canonical's: the claim model runs on the original only, and only it stores claims."""
    story = ("The harbour authority said on Friday that two of its five cranes failed during the storm and that "
             "forty containers fell into the water near the eastern pier. Repairs will take about a month, the "
             "authority's chief engineer told reporters. The port handled 1.2 million containers last year, a "
             "record for the city. Union leaders said the cranes had not been inspected since 2019. ") * 2

    def page(outlet: str) -> str:
        return (f"<html><head><title>Cranes fail in the storm</title></head><body><header><a href='/'>{outlet}</a>"
                f"</header><article><h1>Cranes fail in the storm</h1><p>{story}</p>"
                f"<p>Officials will publish a full report next week.</p></article><footer>{outlet} news</footer>"
                f"</body></html>")

    web_server.add("/original.html", body=page("First Wire"))
    web_server.add("/copy.html", body=page("Second Paper"))
    _serve_feed(web_server, ["/original.html", "/copy.html"], '"v1"')
    settings = Settings(es_url=es_url, index_prefix=index_prefix)
    pipeline.prepare_indices(settings)
    counting = _CountingClaims(stages.claims)
    with pipeline.Stages(claims=stages.claims, claims_model=stages.claims_model,
                         processor=PageProcessor(counting, workers=1)) as own:
        report = pipeline.ingest_source(_source(web_server), settings, stages=own)

    assert report.indexed == 2
    es.indices.refresh(index=f"{index_prefix}-articles")
    docs = {h["_source"]["url"].rsplit("/", 1)[1]: h["_source"]
            for h in es.search(index=f"{index_prefix}-articles", size=10)["hits"]["hits"]}
    canonical = [name for name, doc in docs.items() if doc["is_canonical"]]
    assert len(canonical) == 1 and len(docs) == 2
    copy = next(name for name in docs if name not in canonical)
    assert docs[copy]["claim_count"] == 0 and docs[copy]["duplicate_of"] == docs[canonical[0]]["id"]
    assert docs[canonical[0]]["claim_count"] > 0
    assert len(counting.scored) == 1  # the copy never reached the model
    stored = es.search(index=f"{index_prefix}-claims", size=100)["hits"]["hits"]
    assert stored and {h["_source"]["article_id"] for h in stored} == {docs[canonical[0]]["id"]}
    assert report.claims == len(stored)
